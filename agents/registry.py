"""The algorithm table, and one way to make, load and score any ram-gym agent by reading it.

:data:`ALGORITHMS` maps each algorithm name to an :class:`~agents.base.Algorithm`: how to
make a new agent, how to load a checkpoint, the default budget and the resolved
hyper-parameters.  It starts with the built-ins of :mod:`agents.algorithms`; installed
plug-ins (entry point group ``ram_gym.agents``) and ``package.module:Class`` names are added
on first use.  The ``ram`` command's choices and ``ram bench`` read it; every agent meets
the contract of :mod:`agents.base`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from agents.algorithms import BUILTINS
from agents.base import TRACKS, Agent, Algorithm, ImageClassifier

if TYPE_CHECKING:
    from agents.evaluation import EvalResult

__all__ = [
    "ALGORITHMS",
    "register_algorithm",
    "algorithm",
    "make_agent",
    "load_agent",
    "evaluate_agent",
    "resolved_settings",
]

ALGORITHMS: dict[str, Algorithm] = {entry.name: entry for entry in BUILTINS}


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
    from agents.checkpoint import CheckpointError, load_checkpoint  # torch: imported when used

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
    from agents.evaluation import evaluate  # torch: imported when used

    if isinstance(agent, ImageClassifier):
        unsupported = {k for k, v in kwargs.items() if k in ("mc_samples",) and v not in (None, 1)}
        if unsupported or kwargs.get("deterministic") is False:
            raise ValueError(f"{agent.algo} is a deterministic full-image classifier: no stochastic or MC evaluation")
        return agent.evaluate(n_episodes=kwargs.get("n_episodes"), split=kwargs.get("split", "test"))
    return evaluate(agent, **kwargs)
