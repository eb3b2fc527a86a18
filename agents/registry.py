"""One way to make, load and score any ram-gym agent, by reading the algorithm table.

The table is :data:`agents.base.ALGORITHMS` (built-ins in :mod:`agents.algorithms`);
every agent meets the contract of :mod:`agents.base`.
"""

from __future__ import annotations

import os
from typing import Any

from agents import algorithms  # noqa: F401  (fills the table)
from agents.base import ALGORITHMS, Agent, ImageClassifier, algorithm, load_entry_points
from agents.checkpoint import CheckpointError, load_checkpoint
from agents.evaluation import EvalResult, evaluate

__all__ = ["make_agent", "load_agent", "evaluate_agent", "resolved_settings"]


def make_agent(
    algo: str,
    env_id: str,
    seed: int | None = 0,
    hparams: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> Agent:
    """A new agent of ``algo`` for ``env_id`` (``hparams``: the algorithm's own keywords)."""
    return algorithm(algo).make(env_id, seed, dict(hparams or {}), dict(env_kwargs or {}))


def load_agent(path: str | os.PathLike, env_id: str | None = None, algo: str | None = None) -> Agent:
    """Load any checkpoint, dispatching on its ``algo`` field - or on ``algo`` when given
    (a plug-in: ``package.module:Class``, whose checkpoints may have a format of their own).

    A checkpoint never makes ram-gym import a module: one that names an algorithm that is
    neither built in nor installed (entry points) is loaded only when ``algo`` names it.
    """
    if algo is not None:
        return algorithm(algo).load(path, env_id)
    name = load_checkpoint(path, env_id=env_id)["algo"]
    if name not in ALGORITHMS:
        load_entry_points()
    if name not in ALGORITHMS:
        hint = f"; pass --algo {name} to import that plug-in and load it" if ":" in name else ""
        raise CheckpointError(f"{path} holds an unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)}{hint}")
    return ALGORITHMS[name].load(path, env_id)


def resolved_settings(algo: str, env_id: str, hparams: dict[str, Any]) -> dict[str, Any]:
    """The hyper-parameters a run of ``algo`` will really use: its defaults updated by ``hparams``."""
    import ram_env

    return {**algorithm(algo).settings(env_id, dict(hparams)), "ram_gym": ram_env.__version__}


def evaluate_agent(agent: Agent, **kwargs: Any) -> EvalResult:
    """Score any agent on its fixed test split (see :func:`agents.evaluation.evaluate`)."""
    if isinstance(agent, ImageClassifier):
        unsupported = {k for k, v in kwargs.items() if k in ("mc_samples",) and v not in (None, 1)}
        if unsupported or kwargs.get("deterministic") is False:
            raise ValueError(f"{agent.algo} is a deterministic full-image classifier: no stochastic or MC evaluation")
        return agent.evaluate(n_episodes=kwargs.get("n_episodes"), split=kwargs.get("split", "test"))
    return evaluate(agent, **kwargs)
