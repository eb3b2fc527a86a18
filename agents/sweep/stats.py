"""The statistics of a sweep's table as rliable (Agarwal et al., *Deep Reinforcement Learning at
the Edge of the Statistical Precipice*, NeurIPS 2021) computes them: the interquartile mean
(IQM) of the seeds' scores with a 95% stratified-bootstrap confidence interval, the probability
that one algorithm beats another with its interval, and the chance level of an environment.

rliable is optional (the ``viz`` extra): :func:`load_rliable` gives ``None`` without it, and the
report leaves those numbers out.  Every bootstrap is seeded, so a table is made alike each time.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "BOOTSTRAP_REPS",
    "BOOTSTRAP_SEED",
    "CHANCE_GAMES",
    "INSTALL",
    "Rliable",
    "chance_level",
    "improvement",
    "improvement_pairs",
    "iqm_interval",
    "load_rliable",
]

BOOTSTRAP_REPS = 2000  #: bootstrap resamples per interval
BOOTSTRAP_SEED = 0  #: each interval's own ``RandomState`` seed: a cell does not depend on the other rows
CHANCE_GAMES = 1000  #: games a uniformly random policy plays to measure a control env's chance level
INSTALL = "pip install 'ram-gym[viz]'"

Pair = tuple[str, str, str, str, float, float, float]  #: env, track, X, Y, P(X > Y), low, high
_CHANCE: dict[tuple[str, str], float | None] = {}  # (env id, its keywords as JSON) -> chance level


@dataclass(frozen=True)
class Rliable:
    """rliable's ``library`` (bootstrap intervals) and ``metrics`` (IQM, probability of improvement)."""

    library: Any
    metrics: Any


def load_rliable(on_missing: Callable[[str], None] | None = None) -> Rliable | None:
    """rliable, or ``None`` when it cannot be imported (not installed, or its dependency ``arch``
    broken by pandas 3); then ``on_missing`` gets one line saying so and how to install it."""
    try:
        from rliable import library, metrics
    except Exception as err:  # ImportError, or the TypeError arch raises under pandas 3
        if on_missing is not None:
            reason = " ".join(f"{type(err).__name__}: {err}".split())
            on_missing(
                f"ram bench: rliable cannot be imported ({reason}), so the table is made without the IQM column "
                f"and no probability_of_improvement.png; {INSTALL} adds them"
            )
        return None
    return Rliable(library, metrics)


def _interval(rl: Rliable, scores: Any, func: Callable[..., Any], reps: int, seed: int) -> tuple[float, float, float]:
    """rliable's point estimate and 95% stratified-bootstrap interval of ``func(scores)``.

    rliable draws its resamples from NumPy's global generator (``np.random.choice``), whatever
    ``random_state`` says: it is seeded for the call and given back its state afterwards."""
    outside = np.random.get_state()
    np.random.seed(seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # arch: "random_state is deprecated" (still honoured)
            point, interval = rl.library.get_interval_estimates(
                {"x": scores}, func, reps=reps, random_state=np.random.RandomState(seed)
            )
    finally:
        np.random.set_state(outside)
    low, high = np.ravel(interval["x"])
    return float(np.ravel(point["x"])[0]), float(low), float(high)


def iqm_interval(
    scores: Sequence[float], rl: Rliable, reps: int = BOOTSTRAP_REPS, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float, float]:
    """The interquartile mean of one task's ``scores`` (one per seed; rliable's ``aggregate_iqm``,
    a 25% trimmed mean: of 3 seeds, their mean) and its 95% bootstrap interval: ``(iqm, low, high)``."""
    x = np.asarray(scores, dtype=float)[:, None]  # runs x tasks
    return _interval(rl, x, lambda s: np.array([rl.metrics.aggregate_iqm(s)]), reps, seed)


def improvement(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    rl: Rliable,
    reps: int = BOOTSTRAP_REPS,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float, float]:
    """P(X > Y): the chance that a seed of X scores above a seed of Y (ties count half; rliable's
    ``probability_of_improvement``), with its 95% interval (X's and Y's seeds resampled apart)."""
    xs, ys = (np.asarray(v, dtype=float)[:, None] for v in (x, y))
    return _interval(rl, [xs, ys], rl.metrics.probability_of_improvement, reps, seed)


def improvement_pairs(
    scores: Mapping[tuple[str, str, str], Sequence[float]],
    rl: Rliable,
    reps: int = BOOTSTRAP_REPS,
    seed: int = BOOTSTRAP_SEED,
) -> list[Pair]:
    """P(X > Y) with its interval for every pair of algorithms in one env and one track (tracks
    are not compared), from ``{(env id, track, algo): scores}``; X is the one with the higher IQM."""
    by_task: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for (env_id, track, algo), values in scores.items():
        if len(values):
            by_task.setdefault((env_id, track), {})[algo] = np.asarray(values, dtype=float)
    pairs: list[Pair] = []
    for (env_id, track), algos in sorted(by_task.items()):
        ranked = sorted(algos, key=lambda a: (-float(rl.metrics.aggregate_iqm(algos[a][:, None])), a))
        for i, better in enumerate(ranked):
            for worse in ranked[i + 1 :]:
                p, low, high = improvement(algos[better], algos[worse], rl, reps, seed)
                pairs.append((env_id, track, better, worse, p, low, high))
    return pairs


def chance_level(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> float | None:
    """What guessing scores on ``env_id`` made with ``env_kwargs``: classification, 1 / the number
    of classes (the env's label actions); a control env (Catch), the mean last reward (the catch
    rate) of a uniformly random policy over :data:`CHANCE_GAMES` seeded games.  ``None`` for an env
    that cannot be made from these keywords.  Measured once per env id and keywords (a process)."""
    kwargs = dict(env_kwargs or {})
    key = (env_id, json.dumps(kwargs, sort_keys=True, default=repr))
    if key not in _CHANCE:
        _CHANCE[key] = _chance_level(env_id, kwargs)
    return _CHANCE[key]


def _chance_level(env_id: str, kwargs: dict[str, Any]) -> float | None:
    import gymnasium as gym

    import ram_env

    try:
        probe = gym.make(env_id, **kwargs)
    except Exception:  # noqa: BLE001 - an unknown id, keywords it refuses: no level to show
        return None
    try:
        if ram_env.task_kind(probe) == "classification":
            return 1.0 / int(probe.action_space["label"].n)  # type: ignore[index]
    except Exception:  # noqa: BLE001 - not a glimpse env
        return None
    finally:
        probe.close()
    return _random_policy_score(env_id, kwargs, CHANCE_GAMES, seed=0)


def _random_policy_score(env_id: str, kwargs: dict[str, Any], games: int, seed: int) -> float:
    """The mean last reward of ``games`` episodes (one per env of a vector env, seeded) in which
    every action is drawn uniformly from the env's action space (seeded)."""
    import gymnasium as gym

    envs = gym.make_vec(env_id, num_envs=games, **kwargs)
    envs.reset(seed=seed)
    envs.action_space.seed(seed)
    last = np.full(games, np.nan)
    while np.isnan(last).any():
        _, reward, terminated, truncated, _ = envs.step(envs.action_space.sample())
        first = (np.asarray(terminated) | np.asarray(truncated)) & np.isnan(last)
        last[first] = np.asarray(reward, dtype=float)[first]
    envs.close()
    return float(last.mean())
