"""The agent contract: what every agent offers, and the optional capabilities some have.

Every ram-gym agent - the RAM, the Stable-Baselines3 baselines, the full-image networks,
and any agent a user plugs in - meets :class:`Agent`; agents that act in the glimpse
environments step by step also meet :class:`GlimpseAgent` (``predict``), which is how
:func:`agents.evaluation.evaluate` scores them all alike.  Full-image classifiers meet
:class:`ImageClassifier` (``evaluate`` on the same fixed test images) instead.

Each agent declares its **track**:

* ``"rl"``: it learns from the reward alone and never reads ``info["label"]`` or
  ``info["state"]``;
* ``"privileged"``: its training reads them (the RAM's hybrid loss, Catch's true-state
  critic, the supervised full-image baselines).

Benchmark tables keep the two tracks apart.

Optional capabilities are named protocols, checked with ``isinstance``:
:class:`Budgeted` (a schedule that can be fitted to a deadline), :class:`FineTunable`
(starts from another agent's weights), :class:`WeightAveraged` (keeps a moving average of
its weights).

An :class:`Algorithm` says how to make, load and configure one kind of agent; the table
of them is :data:`agents.registry.ALGORITHMS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from agents.evaluation import EvalResult

__all__ = [
    "Track",
    "TRACKS",
    "Callback",
    "Agent",
    "GlimpseAgent",
    "ImageClassifier",
    "Algorithm",
    "merge_env_kwargs",
    "Budgeted",
    "FineTunable",
    "WeightAveraged",
    "Recorded",
]

Track = Literal["rl", "privileged"]
TRACKS: tuple[Track, ...] = ("rl", "privileged")

#: called with each update's metrics (``env_steps`` always among them); ``False`` stops training
Callback = Callable[[dict[str, float]], "bool | None"]


@runtime_checkable
class Agent(Protocol):
    """What every agent offers (the Stable-Baselines3 surface, plus ``algo`` and ``track``)."""

    algo: str
    """The algorithm's name in :data:`agents.registry.ALGORITHMS` (or ``package.module:Class`` for a plug-in)."""
    env_id: str
    """The registered environment id it trains on."""

    @property
    def num_timesteps(self) -> int:
        """Env steps taken in training so far (every env counts)."""
        ...

    @property
    def track(self) -> Track:
        """``"rl"`` or ``"privileged"`` (see the module docstring)."""
        ...

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """The environment keywords it was made with."""
        ...

    def learn(self, total_timesteps: int, callback: Callback | None = None, reset_num_timesteps: bool = True) -> Any:
        """Train until ``total_timesteps``; ``callback(metrics)`` after each update, ``False`` stops."""
        ...

    def save(self, path: str | os.PathLike, extra: dict[str, Any] | None = None) -> Path:
        """Write a checkpoint (atomically) that :meth:`load` reads back."""
        ...

    @classmethod
    def load(cls, path: str | os.PathLike, env_id: str | None = None) -> Agent:
        """Read a checkpoint written by :meth:`save` (``env_id``: require that env)."""
        ...


@runtime_checkable
class GlimpseAgent(Agent, Protocol):
    """An agent that acts in the glimpse environments step by step."""

    def predict(
        self,
        observation: dict[str, np.ndarray],
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[dict[str, Any], Any]:
        """The env's native action for one observation or a batch, and the recurrent state."""
        ...


@runtime_checkable
class ImageClassifier(Agent, Protocol):
    """A classifier of whole canvases (the paper's FC / CNN baselines)."""

    def evaluate(self, n_episodes: int | None = None, split: str = "test") -> EvalResult:
        """Score the same fixed images the glimpse agents are scored on."""
        ...


@runtime_checkable
class Budgeted(Protocol):
    """An agent whose schedule follows its budget, which may change during ``learn``:
    :class:`agents.callbacks.TimeBudget` fits it to a deadline (the RAM)."""

    @property
    def num_timesteps(self) -> int:
        """Env steps taken in training so far."""
        ...

    def set_budget(self, total_timesteps: int) -> None:
        """Make ``total_timesteps`` the budget of the ``learn`` under way."""
        ...


@runtime_checkable
class FineTunable(Protocol):
    """An agent that can start from another agent's weights (``ram train --init-from``)."""

    def init_weights(self, other: Any) -> None:
        """Copy ``other``'s network weights; ``ValueError`` if they do not fit."""
        ...


@runtime_checkable
class WeightAveraged(Protocol):
    """An agent that may keep a moving average of its weights beside them (the RAM's
    ``weight_average``): a finished run also writes the averaged model."""

    averaged_weights: Any
    """The average (``None`` while there is none)."""

    def save(
        self,
        path: str | os.PathLike,
        extra: dict[str, Any] | None = None,
        weights_only: bool = False,
        averaged: bool = False,
    ) -> Path:
        """``averaged=True`` writes the averaged weights as the model's."""
        ...


@runtime_checkable
class Recorded(Protocol):
    """An agent loaded from a checkpoint that recorded how it was trained (its ``extra``)."""

    checkpoint_extra: dict[str, Any]


@dataclass(frozen=True)
class Algorithm:
    """One entry of the algorithm table.

    Attributes:
        name: what ``ram train --algo`` and a sweep's ``algos:`` call it.
        make: ``make(env_id, seed, hparams, env_kwargs) -> Agent``.
        load: ``load(path, env_id) -> Agent`` (a checkpoint its agents saved).
        default_steps: training budget when none is given (env steps; images for fc/cnn).
        settings: ``settings(env_id, hparams) -> dict``, the hyper-parameters a run really
            uses (defaults updated by ``hparams``); keys a sweep's run by them.
        description: one line for ``ram train --help``.
        recipes: its hyper-parameters are :class:`~agents.ram.RAMConfig` fields, so
            ``--config`` and a sweep's ``config:`` may name a shipped RAM recipe.
    """

    name: str
    make: Callable[[str, int | None, dict[str, Any], dict[str, Any]], Agent]
    load: Callable[[str | os.PathLike, str | None], Agent]
    default_steps: int
    settings: Callable[[str, dict[str, Any]], dict[str, Any]]
    description: str = ""
    recipes: bool = False


def merge_env_kwargs(hparams: Mapping[str, Any], env_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``hparams`` with ``env_kwargs`` merged into its own ``env_kwargs`` entry."""
    out = dict(hparams)
    if env_kwargs:
        out["env_kwargs"] = {**out.get("env_kwargs", {}), **env_kwargs}
    return out
