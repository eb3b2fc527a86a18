"""The agent contract and the one table of algorithms.

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

:data:`ALGORITHMS` maps each algorithm name to an :class:`Algorithm`: how to make a new
agent, how to load a checkpoint, the default budget and the resolved hyper-parameters.
The registry, the ``ram`` command's choices and ``ram bench`` all read it, so adding a
built-in algorithm is one :func:`register_algorithm` call.
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
    "ALGORITHMS",
    "register_algorithm",
    "algorithm",
]

Track = Literal["rl", "privileged"]
TRACKS: tuple[Track, ...] = ("rl", "privileged")

#: called with each update's metrics (``env_steps`` always among them); ``False`` stops training
Callback = Callable[[dict[str, float]], "bool | None"]


@runtime_checkable
class Agent(Protocol):
    """What every agent offers (the Stable-Baselines3 surface, plus ``algo`` and ``track``)."""

    algo: str
    """The algorithm's name in :data:`ALGORITHMS` (or ``package.module:Class`` for a plug-in)."""
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


ALGORITHMS: dict[str, Algorithm] = {}


def register_algorithm(entry: Algorithm) -> Algorithm:
    """Add ``entry`` to :data:`ALGORITHMS` (``ValueError`` if the name is taken)."""
    if entry.name in ALGORITHMS:
        raise ValueError(f"algorithm {entry.name!r} is already registered")
    ALGORITHMS[entry.name] = entry
    return entry


ENTRY_POINT_GROUP = "ram_gym.agents"  #: installed packages offer agents here (name -> class or Algorithm)


def algorithm(name: str) -> Algorithm:
    """The table entry for ``name``: a built-in, an installed plug-in (entry point group
    ``ram_gym.agents``) or ``package.module:Class`` (imported and checked against the
    contract).  ``ValueError`` names the known algorithms, or what a plug-in lacks."""
    from agents import algorithms  # noqa: F401  (fills the table with the built-ins)

    if name in ALGORITHMS:
        return ALGORITHMS[name]
    load_entry_points()
    if name in ALGORITHMS:
        return ALGORITHMS[name]
    if ":" in name:
        return register_algorithm(plugin(name, _import(name)))
    raise ValueError(
        f"unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}, "
        "or name your own agent class as package.module:Class"
    )


def load_entry_points() -> None:
    """Register the agents that installed packages offer in the ``ram_gym.agents`` group."""
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in ALGORITHMS:
            continue
        try:
            obj = point.load()
        except Exception as err:  # noqa: BLE001 - a broken plug-in must not break the others
            raise ValueError(
                f"the {ENTRY_POINT_GROUP} entry point {point.name!r} ({point.value}) fails to load: {err}"
            ) from err
        register_algorithm(plugin(point.name, obj))


def _import(spec: str) -> Any:
    import importlib

    module_name, _, qualname = spec.partition(":")
    if not module_name or not qualname:
        raise ValueError(f"a plug-in agent is named package.module:Class, got {spec!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"cannot import {module_name!r} for the agent {spec!r}: {err} (is it on PYTHONPATH?)") from err
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"module {module_name!r} has no {qualname!r} (for the agent {spec!r})")
        obj = getattr(obj, part)
    return obj


#: what a plug-in agent class must offer, beyond its constructor ``Class(env_id, seed=, env_kwargs=, **hparams)``
REQUIRED = ("learn", "save", "load", "track")


def plugin(name: str, obj: Any) -> Algorithm:
    """An :class:`Algorithm` entry for a plug-in: an ``Algorithm`` as it is, or an agent class.

    The class is made as ``Class(env_id, seed=seed, env_kwargs=env_kwargs, **hparams)`` and
    loaded with ``Class.load(path, env_id=...)``; it must have ``learn``, ``save``, ``load``,
    ``track`` and ``predict`` (glimpse agents) or ``evaluate`` (whole-image classifiers).
    Optional class attributes: ``default_steps`` (budget, default 1,000,000) and
    ``default_hparams`` (a dict).
    """
    if isinstance(obj, Algorithm):
        return (
            obj
            if obj.name == name
            else Algorithm(name, obj.make, obj.load, obj.default_steps, obj.settings, obj.description)
        )
    if not isinstance(obj, type):
        raise ValueError(f"plug-in {name!r} is a {type(obj).__name__}, not an agent class or an Algorithm entry")
    cls: Any = obj
    missing = [m for m in REQUIRED if not hasattr(obj, m)]
    if not (hasattr(obj, "predict") or hasattr(obj, "evaluate")):
        missing.append("predict (or evaluate)")
    if missing:
        raise ValueError(
            f"plug-in agent {name!r} ({obj.__module__}.{obj.__qualname__}) lacks {', '.join(missing)}: "
            "see the agent contract in agents/base.py"
        )
    track = getattr(obj, "track", None)
    if isinstance(track, str) and track not in TRACKS:
        raise ValueError(f"plug-in agent {name!r} declares track {track!r}; it must be one of {TRACKS}")
    defaults = dict(getattr(obj, "default_hparams", {}) or {})

    def make(env_id: str, seed: int | None, hparams: dict[str, Any], env_kwargs: dict[str, Any]) -> Agent:
        agent = cls(env_id, seed=seed, env_kwargs=env_kwargs, **{**defaults, **hparams})
        agent.algo = name  # checkpoints name the algorithm as the table does
        return agent

    def load(path: str | os.PathLike, env_id: str | None) -> Agent:
        agent = cls.load(path, env_id=env_id)
        agent.algo = name
        return agent

    doc = (obj.__doc__ or f"{obj.__qualname__} (plug-in)").strip().splitlines()[0]
    return Algorithm(
        name, make, load, int(getattr(obj, "default_steps", 1_000_000)), lambda e, h: {**defaults, **h}, doc
    )


def merge_env_kwargs(hparams: Mapping[str, Any], env_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``hparams`` with ``env_kwargs`` merged into its own ``env_kwargs`` entry."""
    out = dict(hparams)
    if env_kwargs:
        out["env_kwargs"] = {**out.get("env_kwargs", {}), **env_kwargs}
    return out


# the built-in entries; last, since agents.algorithms imports the names above
from agents import algorithms as _builtins  # noqa: E402, F401
