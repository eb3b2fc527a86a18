"""Evaluation on the fixed test split, identical for every agent.

Any agent with the Stable-Baselines3 surface works: ``agent.predict(obs, state,
episode_start, deterministic) -> (action, state)``, ``agent.env_id`` and optionally
``agent.env_kwargs``.  Classification: the whole test split (10,000 episodes, each test
image exactly once with its fixed clutter), one sample per image, deterministic
locations by default.  Catch: the catch rate over ``n_episodes`` seeded episodes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

import ram_env  # noqa: F401
from agents.registry import plugin_failure, plugin_name
from ram_env.core import InvalidAction

__all__ = ["EvalResult", "evaluate", "VALIDATION_SEED"]

#: Catch's validation games start at this seed (its test games at 0): 1,000,000 games apart
VALIDATION_SEED = 1_000_000


@dataclass
class EvalResult:
    """Outcome of :func:`evaluate`."""

    env_id: str
    split: str | None  #: the dataset split (classification), else None
    episodes: int
    mean_reward: float  #: accuracy (classification) or catch rate (Catch)
    seconds: float
    deterministic: bool
    mc_samples: int  #: 1, or the number of stochastic passes combined by majority vote
    seed: int
    mean_glimpses: float | None = None  #: glimpses per episode, when the agent may stop early
    env_kwargs: dict[str, Any] | None = None  #: the env keywords the score is for (beyond the id's own)

    @property
    def env_name(self) -> str:
        """The env as ``gym.make`` takes it: ``RAM-ClutteredMNIST-v0 (initial_location='center')``."""
        kwargs = ", ".join(f"{k}={v!r}" for k, v in (self.env_kwargs or {}).items())
        return f"{self.env_id} ({kwargs})" if kwargs else self.env_id

    @property
    def error(self) -> float:
        """``1 - mean_reward``: the paper's test error for classification."""
        return 1.0 - self.mean_reward

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "error": self.error}

    def summary(self) -> str:
        extra = "" if self.mc_samples == 1 else f", majority vote of {self.mc_samples} stochastic samples"
        policy = f"{'deterministic' if self.deterministic else 'stochastic'} policy{extra}, {self.seconds:.1f} s"
        if self.split is None:  # Catch: the reward is 1 per catch
            return (
                f"{self.env_name}: catch rate {100 * self.mean_reward:.2f}% over {self.episodes:,} games "
                f"({100 * self.error:.2f}% missed), {policy}"
            )
        glimpses = "" if self.mean_glimpses is None else f", {self.mean_glimpses:.2f} glimpses per episode"
        return (
            f"{self.env_name} on the {self.split} split: accuracy {self.mean_reward:.4f} "
            f"(error {100 * self.error:.2f}%) over {self.episodes} episodes{glimpses}, {policy}"
        )


def _run(
    agent: Any, envs: gym.vector.VectorEnv, n_episodes: int, seed: int, deterministic: bool, by_index: bool
) -> dict[int, tuple[int, float, int]]:
    """Play until ``n_episodes`` distinct episodes finished;
    ``{key: (chosen label or -1, last reward, glimpses seen or -1)}``.

    Keys are dataset indices (``by_index``) or the order in which episodes started.
    """
    n = envs.num_envs
    # a fixed split's seed names the first image (env i starts at image seed + i): start at 0, so
    # n_episodes images are the first n; the episodes themselves are fixed by their image index
    obs, info = envs.reset(seed=0 if by_index else seed)
    state = None
    start = np.ones(n, dtype=bool)
    next_step = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP) == AutoresetMode.NEXT_STEP
    resetting = np.zeros(n, dtype=bool)  # next-step autoreset: these envs' next step() only resets them
    rounds = np.zeros(n, dtype=np.int64)  # episodes finished per env
    results: dict[int, tuple[int, float, int]] = {}
    label_key = "label" in getattr(envs.single_action_space, "spaces", {})
    plugin = plugin_name(agent)  # a plug-in's predict is checked: what it gets wrong names it
    while len(results) < n_episodes:
        if plugin is None:
            action, state = agent.predict(obs, state, start, deterministic)
            obs, reward, terminated, truncated, info = envs.step(action)
        else:
            action, state = _plugin_predict(plugin, agent, envs, (obs, state, start, deterministic))
            try:
                obs, reward, terminated, truncated, info = envs.step(action)
            except InvalidAction as err:
                raise plugin_failure(plugin, f"predict() returned an action the env refuses: {err}") from err
        done = terminated | truncated
        for i in np.flatnonzero(done):
            key = int(info["index"][i]) if by_index else int(rounds[i] * n + i)
            if key < n_episodes and key not in results:
                label = np.asarray(action["label"])[i] if label_key else None
                chosen = -1 if label is None else int(label.argmax() if label.ndim else label)  # scores: argmax
                glimpses = int(info["glimpses"][i]) if "glimpses" in info else -1
                results[key] = (chosen, float(reward[i]), glimpses)
            rounds[i] += 1
        # a new episode's first observation must meet a fresh recurrent state: with next-step
        # autoreset it arrives one step() after `done` (that step ignores the action)
        start = resetting if next_step else done
        resetting = done & next_step
    return results


def _plugin_predict(name: str, agent: Any, envs: gym.vector.VectorEnv, args: tuple[Any, ...]) -> tuple[Any, Any]:
    """Plug-in ``name``'s ``predict(*args)``, checked: an ``(action, state)`` pair whose action
    belongs to ``envs``' action space (each env's, batched); else a ``PluginError`` naming it."""
    try:
        out = agent.predict(*args)
    except Exception as err:  # the plug-in's own code
        raise plugin_failure(name, "predict()", err) from err
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        got = "None" if out is None else f"a {type(out).__name__}"
        got += f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        raise plugin_failure(name, f"predict() returned {got}, not an (action, state) pair")
    problem = action_problem(out[0], envs.single_action_space, envs.num_envs, "action")
    if problem is not None:
        raise plugin_failure(name, f"predict()'s {problem}")
    return out[0], out[1]


def action_problem(value: Any, space: gym.Space, n: int, where: str = "action") -> str | None:
    """What is wrong with ``value`` as the batched action of ``n`` envs whose own action space is
    ``space`` (a dict's keys, shapes, dtypes, NaN), or None; ranges are the env's to check."""
    if isinstance(space, spaces.Dict):
        if not isinstance(value, Mapping):
            return f"{where} is a {type(value).__name__}, not a dict with keys {sorted(space.spaces)}"
        missing = [key for key in space.spaces if key not in value]
        extra = [key for key in value if key not in space.spaces]
        if missing or extra:
            wrong = f"lacks {', '.join(map(repr, missing))}" if missing else f"has {', '.join(map(repr, extra))}"
            return f"{where} {wrong} (the env's action space has {sorted(space.spaces)})"
        for key, sub in space.spaces.items():
            problem = action_problem(value[key], sub, n, f"{where}[{key!r}]")
            if problem is not None:
                return problem
        return None
    if not isinstance(space, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)):
        return None  # other spaces: the env checks
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - ragged lists, tensors that need grad, ...
        return f"{where} is a {type(value).__name__} that is not an array"
    wanted, each = (n, *(space.shape or ())), f"{n} envs, each {space}"
    if array.shape != wanted:
        return f"{where} has shape {array.shape}, not {wanted} ({each})"
    integral = not isinstance(space, spaces.Box)
    if array.dtype.kind not in "biuf" or (integral and array.dtype.kind == "f" and not _whole(array)):
        return f"{where} has dtype {array.dtype}, not {space.dtype} ({each})"
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        i = int(np.flatnonzero(~np.isfinite(array.reshape(n, -1)).all(1))[0])
        return f"{where} is not finite: env {i} of {n} has {array[i].tolist()}"
    return None


def _whole(array: np.ndarray) -> bool:
    """Finite whole numbers only (a float array that may stand for integers)."""
    return bool(np.all(np.isfinite(array)) and np.all(array == np.round(array)))


def _majority_vote(agent: Any, envs: gym.vector.VectorEnv, n_episodes: int, seed: int, samples: int) -> float:
    """Accuracy of the majority label over ``samples`` stochastic passes of the first ``n_episodes``
    images (torch's generator, seeded by the caller, runs on from pass to pass)."""
    labels = ram_env.image_dataset(envs).labels[:n_episodes]
    n_classes = int(envs.single_action_space["label"].n)  # type: ignore[index]
    votes = np.zeros((n_episodes, n_classes), dtype=np.int64)
    for k in range(samples):
        results = _run(agent, envs, n_episodes, seed + k, False, by_index=True)
        chosen = np.array([results[i][0] for i in range(n_episodes)])
        votes[np.arange(n_episodes), chosen] += 1
    return float(np.mean(votes.argmax(1) == labels))


def check_episodes(env_id: str, env_kwargs: dict[str, Any], n_episodes: int | None) -> None:
    """``ValueError`` unless :func:`evaluate` can play ``n_episodes`` on the test split of
    ``env_id`` (classification: at most the split's images; ``None``: all of them)."""
    if n_episodes is None:
        return
    if isinstance(n_episodes, bool) or not isinstance(n_episodes, (int, np.integer)) or n_episodes < 1:
        raise ValueError(f"the number of test episodes must be a positive integer, got {n_episodes!r}")
    probe = gym.make(env_id, **env_kwargs)
    if ram_env.task_kind(probe) == "classification":
        size = len(ram_env.image_dataset(gym.make(env_id, **{**env_kwargs, "split": "test"})))
        if n_episodes > size:
            raise ValueError(f"n_episodes must be in [1, {size}] for the test split of {env_id}, got {n_episodes}")
    probe.close()


def evaluate(
    agent: Any,
    n_episodes: int | None = None,
    split: str = "test",
    num_envs: int = 500,
    seed: int = 0,
    deterministic: bool = True,
    mc_samples: int = 1,
    env_id: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> EvalResult:
    """Score ``agent`` on its environment.

    Args:
        agent: anything with ``predict`` (and ``env_id``/``env_kwargs`` unless given).
        n_episodes: classification: the first ``n`` images of the split (default: all
            of it, 10,000 for ``test``); Catch: episodes (default 1,000).
        split: ``"test"`` (default) or ``"validation"``.  Classification: the fixed split of
            images.  Catch: ``"validation"`` plays other seeded games than ``"test"`` (seeds
            from :data:`VALIDATION_SEED` on), to choose recipes by without the test games.
        num_envs: episodes played in parallel.
        seed: environment seed (initial fixations; Catch's balls).
        deterministic: policy means / argmax (the paper's test-time rule).
        mc_samples: > 1 plays the split that many times with a stochastic policy and
            takes the majority label per image (reported as such); classification only.
    """
    env_id = env_id or getattr(agent, "env_id", None)
    if not isinstance(env_id, str):
        raise ValueError(
            f"evaluate() needs the environment: this {type(agent).__name__} has no env_id, so pass "
            "env_id= (and env_kwargs=), e.g. evaluate(model, env_id='RAM-MNIST-v0'); its predict() must "
            "take the env's own observations (ram-gym's SB3 agents wrap theirs: use agents.baselines.SB3Agent)"
        )
    kwargs = dict(getattr(agent, "env_kwargs", {}) if env_kwargs is None else env_kwargs)
    probe = gym.make(env_id, **kwargs)
    classification = ram_env.task_kind(probe) == "classification"
    probe.close()
    if mc_samples < 1:
        raise ValueError(f"mc_samples must be >= 1, got {mc_samples}")
    if mc_samples > 1 and not classification:
        raise ValueError("mc_samples > 1 (majority vote) is for classification environments only")
    if classification:
        if split not in ("test", "validation"):
            raise ValueError(f"evaluate on 'test' or 'validation' (fixed images), got split {split!r}")
        kwargs["split"] = split
        size = len(ram_env.image_dataset(gym.make(env_id, **kwargs)))  # this env's split, whatever its images
        n_episodes = size if n_episodes is None else n_episodes
        if not 1 <= n_episodes <= size:
            raise ValueError(f"n_episodes must be in [1, {size}] for the {split} split, got {n_episodes}")
    else:
        if split not in ("test", "validation"):
            raise ValueError(f"evaluate on 'test' or 'validation' games, got split {split!r}")
        n_episodes = 1000 if n_episodes is None else n_episodes
        seed += VALIDATION_SEED if split == "validation" else 0
    started = time.perf_counter()
    envs = gym.make_vec(env_id, num_envs=min(num_envs, n_episodes), **kwargs)
    # the agent samples with torch's global generator: seed a private copy of it, so a
    # stochastic evaluation is reproducible and the caller's generator is left untouched
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if mc_samples == 1:
            results = _run(agent, envs, n_episodes, seed, deterministic, by_index=classification)
            if classification:  # accuracy, whatever the reward variant: the last label against the truth
                labels = ram_env.image_dataset(envs).labels
                mean_reward = float(np.mean([chosen == labels[i] for i, (chosen, _, _) in results.items()]))
            else:
                mean_reward = float(np.mean([r for _, r, _ in results.values()]))
            counts = [g for _, _, g in results.values() if g >= 0]
            mean_glimpses = float(np.mean(counts)) if counts else None
        else:
            mean_glimpses = None
            mean_reward = _majority_vote(agent, envs, n_episodes, seed, mc_samples)
            deterministic = False
    envs.close()
    return EvalResult(
        env_id,
        split if classification else None,
        n_episodes,
        mean_reward,
        time.perf_counter() - started,
        deterministic,
        mc_samples,
        seed,
        mean_glimpses,
        {k: _shown(v) for k, v in kwargs.items() if k != "split"} or None,
    )


def _shown(value: Any) -> Any:
    """An env keyword as a result records it: plain values as they are, arrays and other objects
    (a user's images) as a short description, so results stay small and JSON."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and len(value) <= 8 and all(isinstance(v, (int, float)) for v in value):
        return list(value)
    shape = getattr(value, "shape", None)
    return f"<{type(value).__name__}{' ' + str(tuple(shape)) if shape is not None else ''}>"
