"""The built-in entries of the algorithm table (:data:`agents.registry.ALGORITHMS`).

Each entry imports its agent lazily, so ``ram --help`` and a sweep's checks do not pay
for torch or Stable-Baselines3.  To add a built-in algorithm, add its entry to
:data:`BUILTINS`.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

from agents.base import Agent, Algorithm, merge_env_kwargs

__all__ = ["BUILTINS"]


# ---------------------------------------------------------------- the RAM
def _make_ram(env_id: str, seed: int | None, hparams: dict[str, Any], env_kwargs: dict[str, Any]) -> Agent:
    from agents.ram import RAM

    return RAM(env_id, seed=seed, **merge_env_kwargs(hparams, env_kwargs))


def _load_ram(path: str | os.PathLike, env_id: str | None) -> Agent:
    from agents.ram import RAM

    return RAM.load(path, env_id=env_id)


def _ram_settings(env_id: str, hparams: dict[str, Any]) -> dict[str, Any]:
    from agents.ram import RAMConfig
    from agents.ram.config import typed_hparams

    return {**asdict(RAMConfig()), **typed_hparams(hparams)}  # "3e-4" (YAML 1.1 reads a string) as 0.0003


RAM_ENTRY = Algorithm(
    "ram",
    _make_ram,
    _load_ram,
    3_000_000,
    _ram_settings,
    "the Recurrent Attention Model, REINFORCE + hybrid loss (agents.ram)",
    recipes=True,
)


def _make_ram_rl(env_id: str, seed: int | None, hparams: dict[str, Any], env_kwargs: dict[str, Any]) -> Agent:
    agent = _make_ram(env_id, seed, {**hparams, "supervised": False}, env_kwargs)
    if agent.track != "rl":
        raise ValueError(
            "ram-rl learns from the reward alone: critic='state' and state_loss_weight > 0 read info['state'] "
            "(use algo 'ram' for the privileged recipes)"
        )
    return agent


def _ram_rl_settings(env_id: str, hparams: dict[str, Any]) -> dict[str, Any]:
    return _ram_settings(env_id, {**hparams, "supervised": False})


RAM_RL_ENTRY = Algorithm(
    "ram-rl",
    _make_ram_rl,
    _load_ram,
    3_000_000,
    _ram_rl_settings,
    "the RAM on the reward alone (supervised=False: REINFORCE trains the label too; rl track)",
    recipes=True,
)


# ---------------------------------------------------------------- Stable-Baselines3 / sb3-contrib
def _sb3_entry(name: str, default_steps: int, description: str) -> Algorithm:
    def make(env_id: str, seed: int | None, hparams: dict[str, Any], env_kwargs: dict[str, Any]) -> Agent:
        from agents.baselines.sb3_agents import SB3Agent

        hparams = dict(hparams)
        return SB3Agent(name, env_id, seed=seed, env_kwargs={**hparams.pop("env_kwargs", {}), **env_kwargs}, **hparams)

    def load(path: str | os.PathLike, env_id: str | None) -> Agent:
        from agents.baselines.sb3_agents import SB3Agent

        return SB3Agent.load(path, env_id=env_id)

    def settings(env_id: str, hparams: dict[str, Any]) -> dict[str, Any]:
        from agents.baselines.sb3_agents import hyperparameters

        return hyperparameters(name, env_id, hparams)

    return Algorithm(name, make, load, default_steps, settings, description)


SB3_ENTRIES = tuple(
    _sb3_entry(name, steps, what)
    for name, steps, what in (
        ("ppo", 1_000_000, "Stable-Baselines3 PPO on the glimpse env"),
        ("a2c", 1_000_000, "Stable-Baselines3 A2C on the glimpse env"),
        ("dqn", 500_000, "Stable-Baselines3 DQN on the glimpse env (discrete grid of fixations)"),
        ("recurrent-ppo", 1_000_000, "sb3-contrib RecurrentPPO (LSTM policy) on the glimpse env"),
    )
)


# ---------------------------------------------------------------- the paper's full-image baselines
def _full_image_entry(name: str, description: str) -> Algorithm:
    def make(env_id: str, seed: int | None, hparams: dict[str, Any], env_kwargs: dict[str, Any]) -> Agent:
        from agents.baselines.full_image import FullImageClassifier

        return FullImageClassifier(name, env_id, seed=seed, **merge_env_kwargs(hparams, env_kwargs))

    def load(path: str | os.PathLike, env_id: str | None) -> Agent:
        from agents.baselines.full_image import FullImageClassifier

        return FullImageClassifier.load(path, env_id=env_id)

    def settings(env_id: str, hparams: dict[str, Any]) -> dict[str, Any]:
        from agents.baselines.full_image import FullImageConfig

        return {**asdict(FullImageConfig()), **hparams}

    return Algorithm(name, make, load, 550_000, settings, description)


#: every built-in entry, in the order ``ram train --help`` lists them
BUILTINS: tuple[Algorithm, ...] = (
    RAM_ENTRY,
    RAM_RL_ENTRY,
    *SB3_ENTRIES,
    _full_image_entry("fc", "the paper's fully connected net on whole canvases (supervised)"),
    _full_image_entry("cnn", "a 2-layer CNN on whole canvases (supervised)"),
)
