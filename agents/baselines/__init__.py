"""Baselines: Stable-Baselines3 agents on the glimpse envs, and the paper's full-image networks."""

from agents.baselines.sb3_agents import SB3_ALGOS, SB3Agent, hyperparameters

__all__ = ["SB3Agent", "SB3_ALGOS", "hyperparameters"]
