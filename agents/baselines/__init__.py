"""Baselines: Stable-Baselines3 agents on the glimpse envs, and the paper's full-image networks."""

from agents.baselines.extractors import GlimpseExtractor, SmallScreenCNN
from agents.baselines.full_image import FullImageClassifier
from agents.baselines.sb3_agents import SB3_ALGOS, SB3Agent, hyperparameters
from agents.baselines.vec_env import GlimpseVecEnv

__all__ = [
    "SB3Agent",
    "SB3_ALGOS",
    "hyperparameters",
    "GlimpseVecEnv",
    "GlimpseExtractor",
    "SmallScreenCNN",
    "FullImageClassifier",
]
