"""One way to make, load and score any ram-gym agent: RAM, Stable-Baselines3, full-image nets.

Every agent has ``learn(total_timesteps, callback, reset_num_timesteps)``, ``save(path)``,
``env_id`` and ``num_timesteps``; glimpse agents also ``predict`` (scored by
:func:`agents.evaluation.evaluate`), full-image ones ``evaluate`` (the same fixed images).
"""

from __future__ import annotations

import os
from typing import Any

from agents.checkpoint import CheckpointError, load_checkpoint
from agents.evaluation import EvalResult, evaluate

__all__ = ["ALGOS", "DEFAULT_STEPS", "make_agent", "load_agent", "evaluate_agent"]

ALGOS = ("ram", "ppo", "a2c", "dqn", "recurrent-ppo", "fc", "cnn")
#: default training budget per algorithm (env steps; images for fc/cnn)
DEFAULT_STEPS = {
    "ram": 3_000_000,
    "ppo": 1_000_000,
    "a2c": 1_000_000,
    "dqn": 500_000,
    "recurrent-ppo": 1_000_000,
    "fc": 550_000,
    "cnn": 550_000,
}


def make_agent(
    algo: str,
    env_id: str,
    seed: int | None = 0,
    hparams: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> Any:
    """A new agent of ``algo`` for ``env_id`` (``hparams``: the algorithm's own keywords)."""
    hparams = dict(hparams or {})
    env_kwargs = dict(env_kwargs or {})
    if algo == "ram":
        from agents.ram import RAM

        if env_kwargs:
            hparams["env_kwargs"] = {**hparams.get("env_kwargs", {}), **env_kwargs}
        return RAM(env_id, seed=seed, **hparams)
    if algo in ("fc", "cnn"):
        from agents.baselines.full_image import FullImageClassifier

        if env_kwargs:
            hparams["env_kwargs"] = {**hparams.get("env_kwargs", {}), **env_kwargs}
        return FullImageClassifier(algo, env_id, seed=seed, **hparams)
    if algo in ("ppo", "a2c", "dqn", "recurrent-ppo"):
        from agents.baselines.sb3_agents import SB3Agent

        return SB3Agent(algo, env_id, seed=seed, env_kwargs={**hparams.pop("env_kwargs", {}), **env_kwargs}, **hparams)
    raise ValueError(f"unknown algorithm {algo!r}; choose one of {', '.join(ALGOS)}")


def load_agent(path: str | os.PathLike, env_id: str | None = None) -> Any:
    """Load any checkpoint, dispatching on its ``algo`` field."""
    algo = load_checkpoint(path, env_id=env_id)["algo"]
    if algo == "ram":
        from agents.ram import RAM

        return RAM.load(path, env_id=env_id)
    if algo in ("fc", "cnn"):
        from agents.baselines.full_image import FullImageClassifier

        return FullImageClassifier.load(path, env_id=env_id)
    if algo in ("ppo", "a2c", "dqn", "recurrent-ppo"):
        from agents.baselines.sb3_agents import SB3Agent

        return SB3Agent.load(path, env_id=env_id)
    raise CheckpointError(f"{path} holds an unknown algorithm {algo!r}")


def evaluate_agent(agent: Any, **kwargs: Any) -> EvalResult:
    """Score any agent on its fixed test split (see :func:`agents.evaluation.evaluate`)."""
    if hasattr(agent, "evaluate"):
        unsupported = {k for k, v in kwargs.items() if k in ("mc_samples",) and v not in (None, 1)}
        if unsupported or kwargs.get("deterministic") is False:
            raise ValueError(f"{agent.algo} is a deterministic full-image classifier: no stochastic or MC evaluation")
        return agent.evaluate(n_episodes=kwargs.get("n_episodes"), split=kwargs.get("split", "test"))
    return evaluate(agent, **kwargs)
