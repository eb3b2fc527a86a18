"""The algorithm table, and one way to make, load and score any ram-gym agent by reading it.

:data:`ALGORITHMS` maps each algorithm name to an :class:`~agents.base.Algorithm`: how to
make a new agent, how to load a checkpoint, the default budget and the resolved
hyper-parameters.  It starts with the built-ins of :mod:`agents.algorithms`; installed
plug-ins (entry point group ``ram_gym.agents``) and ``package.module:Class`` names are added
on first use.  The ``ram`` command's choices and ``ram bench`` read it; every agent meets
the contract of :mod:`agents.base`.
"""

from __future__ import annotations

import inspect
import numbers
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MethodType
from typing import TYPE_CHECKING, Any

from agents.algorithms import BUILTINS
from agents.base import TRACKS, Agent, Algorithm, ImageClassifier

if TYPE_CHECKING:
    from agents.evaluation import EvalResult

__all__ = [
    "ALGORITHMS",
    "PluginError",
    "PluginAlgorithm",
    "plugin_name",
    "register_algorithm",
    "algorithm",
    "make_agent",
    "load_agent",
    "evaluate_agent",
    "resolved_settings",
]

ALGORITHMS: dict[str, Algorithm] = {entry.name: entry for entry in BUILTINS}


class PluginError(ValueError):
    """A plug-in agent broke the contract: its module or constructor raised, ``load`` gave no
    agent, ``learn`` raised, or ``predict`` gave no action of the env's action space.  The
    message is one line naming the plug-in; what the plug-in raised is its ``__cause__``."""


@dataclass(frozen=True)
class PluginAlgorithm(Algorithm):
    """A table entry made by :func:`plugin`: its agents' failures raise :class:`PluginError`.

    ram-gym's own entries are plain :class:`Algorithm` s, whose errors are left as they are."""


def plugin_name(agent: Any) -> str | None:
    """The table name of ``agent``'s plug-in, or None if it is not a plug-in's agent."""
    name = getattr(agent, "algo", None)
    return name if isinstance(name, str) and isinstance(ALGORITHMS.get(name), PluginAlgorithm) else None


def plugin_failure(name: str, what: str, err: BaseException | None = None) -> PluginError:
    """``PluginError("plug-in agent NAME: WHAT[ raised TYPE: MESSAGE]")`` on one line (the
    caller chains ``err``)."""
    if err is not None:
        text = " ".join(str(err).split())
        text = text if len(text) <= 300 else text[:297] + "..."
        what = f"{what} raised {type(err).__name__}" + (f": {text}" if text else "")
    return PluginError(f"plug-in agent {name!r}: {what}")


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
            raise plugin_failure(
                point.name, f"loading the {ENTRY_POINT_GROUP} entry point ({point.value})", err
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
        message = " ".join(str(err).split())
        raise PluginError(
            f"cannot import {module_name!r} for the agent {spec!r}: {message} (is it on PYTHONPATH?)"
        ) from err
    except (Exception, SystemExit) as err:  # the module's own code failed (SyntaxError, sys.exit too): name it
        raise plugin_failure(spec, f"importing module {module_name!r}", err) from err
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"module {module_name!r} has no {qualname!r} (for the agent {spec!r})")
        obj = getattr(obj, part)
    return obj


#: what a plug-in agent class must offer, beyond its constructor ``Class(env_id, seed=, env_kwargs=, **hparams)``
REQUIRED = ("learn", "save", "load", "track")


def plugin(name: str, obj: Any) -> Algorithm:
    """A :class:`PluginAlgorithm` entry for a plug-in: an ``Algorithm`` entry, or an agent class.

    The class is made as ``Class(env_id, seed=seed, env_kwargs=env_kwargs, **hparams)`` and
    loaded with ``Class.load(path, env_id=...)``; it must have ``learn``, ``save``, ``load``,
    ``track`` and ``predict`` (glimpse agents) or ``evaluate`` (whole-image classifiers).
    Optional class attributes: ``default_steps`` (budget, default 1,000,000) and
    ``default_hparams`` (a dict).

    Whatever the plug-in's own code does wrong is a :class:`PluginError` naming it: its
    constructor (or ``make``) or ``load`` raising or giving no agent, its agents' ``learn``
    raising, and (in :func:`agents.evaluation.evaluate`) ``predict`` giving no valid action.
    """
    if isinstance(obj, Algorithm):
        return PluginAlgorithm(
            name,
            _checked(name, obj.make, "make()"),
            _checked(name, obj.load, "load()"),
            obj.default_steps,
            obj.settings,
            obj.description,
            obj.recipes,
        )
    cls, defaults, steps = _plugin_class(name, obj)

    def make(env_id: str, seed: int | None, hparams: dict[str, Any], env_kwargs: dict[str, Any]) -> Agent:
        return cls(env_id, seed=seed, env_kwargs=env_kwargs, **{**defaults, **hparams})

    def load(path: str | os.PathLike, env_id: str | None) -> Agent:
        return cls.load(path, env_id=env_id)

    doc = (obj.__doc__ or f"{obj.__qualname__} (plug-in)").strip().splitlines()[0]
    return PluginAlgorithm(
        name,
        _checked(name, make, "its constructor"),
        _checked(name, load, "load()"),
        steps,
        lambda e, h: {**defaults, **h},
        doc,
    )


def _plugin_class(name: str, obj: Any) -> tuple[Any, dict[str, Any], int]:
    """``(class, default_hparams, default_steps)`` of a plug-in agent class, checked against the contract."""
    if not isinstance(obj, type):
        raise PluginError(f"plug-in {name!r} is a {type(obj).__name__}, not an agent class or an Algorithm entry")
    missing = [m for m in REQUIRED if not hasattr(obj, m)]
    if not (hasattr(obj, "predict") or hasattr(obj, "evaluate")):
        missing.append("predict (or evaluate)")
    if missing:
        raise PluginError(
            f"plug-in agent {name!r} ({obj.__module__}.{obj.__qualname__}) lacks {', '.join(missing)}: "
            "see the agent contract in agents/base.py"
        )
    track = getattr(obj, "track", None)
    if isinstance(track, str) and track not in TRACKS:
        raise PluginError(f"plug-in agent {name!r} declares track {track!r}; it must be one of {TRACKS}")
    hparams, steps = getattr(obj, "default_hparams", {}) or {}, getattr(obj, "default_steps", 1_000_000)
    whole = isinstance(steps, numbers.Real) and not isinstance(steps, bool) and float(steps).is_integer()
    if not isinstance(hparams, Mapping):
        raise plugin_failure(name, f"default_hparams is a {type(hparams).__name__}, not a dict")
    if not whole or float(steps) < 1:
        raise plugin_failure(name, f"default_steps is {steps!r:.60}, not a positive number of env steps")
    return obj, dict(hparams), int(float(steps))


def _checked(name: str, make: Callable[..., Any], what: str) -> Callable[..., Agent]:
    """``make`` (a plug-in's constructor, ``make`` or ``load``) with what it raises or returns
    instead of an agent a :class:`PluginError` naming the plug-in, and its agents adopted."""

    def checked(*args: Any) -> Agent:
        try:
            agent = make(*args)
        except Exception as err:  # the plug-in's own code: name it, keep its error as the cause
            raise plugin_failure(name, what, err) from err
        return _adopt(name, agent, what)

    return checked


def _adopt(name: str, agent: Any, what: str) -> Agent:
    """``agent``, made by plug-in ``name`` (``what``), checked to be an agent, named as the table
    names it, and with its ``learn``'s errors raised as a :class:`PluginError` naming it."""
    if agent is None:
        raise plugin_failure(name, f"{what} returned None, not an agent")
    if not (hasattr(agent, "predict") or hasattr(agent, "evaluate")):
        kind = type(agent).__name__
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        raise plugin_failure(
            name, f"{what} returned {article} {kind}, which has neither predict nor evaluate: not an agent"
        )
    try:
        if getattr(agent, "algo", None) != name:
            agent.algo = name  # checkpoints name the algorithm as the table does
    except (AttributeError, TypeError) as err:
        raise plugin_failure(name, f"{what} returned an agent whose algo cannot be set to {name!r}", err) from err
    own = getattr(agent, "__dict__", None)
    if isinstance(own, dict) and "learn" not in own and callable(getattr(type(agent), "learn", None)):
        own["learn"] = MethodType(_guarded_learn, agent)  # an agent without __dict__ keeps its learn as it is
    return agent


def _guarded_learn(self: Any, *args: Any, **kwargs: Any) -> Any:
    """A plug-in agent's own ``learn``, with what it raises raised as a :class:`PluginError`
    naming the plug-in (and chained to it).  Named ``learn``, so the agent pickles and copies
    with its bound method as it would without it."""
    own = inspect.getattr_static(type(self), "learn")
    bound = own.__get__(self, type(self)) if hasattr(own, "__get__") else own
    try:
        return bound(*args, **kwargs)
    except PluginError:  # already names the plug-in (its predict, scored during training)
        raise
    except Exception as err:
        raise plugin_failure(str(getattr(self, "algo", type(self).__qualname__)), "learn()", err) from err


_guarded_learn.__name__ = "learn"


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
    from agents.evaluation import EvalResult, evaluate  # torch: imported when used

    if not isinstance(agent, ImageClassifier):
        return evaluate(agent, **kwargs)
    unsupported = {k for k, v in kwargs.items() if k in ("mc_samples",) and v not in (None, 1)}
    if unsupported or kwargs.get("deterministic") is False:
        raise ValueError(f"{agent.algo} is a deterministic full-image classifier: no stochastic or MC evaluation")
    name = plugin_name(agent)
    if name is None:
        return agent.evaluate(n_episodes=kwargs.get("n_episodes"), split=kwargs.get("split", "test"))
    try:
        result = agent.evaluate(n_episodes=kwargs.get("n_episodes"), split=kwargs.get("split", "test"))
    except Exception as err:  # the plug-in's own scoring
        raise plugin_failure(name, "evaluate()", err) from err
    if not isinstance(result, EvalResult):
        raise plugin_failure(name, f"evaluate() returned {type(result).__name__}, not an agents.evaluation.EvalResult")
    return result
