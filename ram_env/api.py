"""What agents may ask of a ram-gym environment, without reaching into its internals.

Every ram-gym environment - single (``gym.make``) or native vector (``gym.make_vec``),
wrapped or not - runs on one batched :class:`~ram_env.core.GlimpseTask`.  These
functions are the public, typed way to get at the parts of it that agents, evaluators
and tools need:

* :func:`task_kind`: ``"classification"`` (a label is scored at the end) or ``"control"``
  (Catch: a move every step);
* :func:`glimpse_sensor`: the :class:`~ram_env.sensor.GlimpseSensor` it observes with;
* :func:`image_dataset`: the :class:`~ram_env.datasets.Canvases` of a classification env;
* :func:`episode_image`: the whole image (canvas or Catch screen) env ``i`` is playing now;
* :func:`get_rng_state` / :func:`set_rng_state`: every episode slot's generator state, for
  an exact resume of training;
* :func:`glimpse_task`: the batched task itself, for adapters that drive it directly
  (the Stable-Baselines3 ``VecEnv`` of :mod:`agents.baselines`).

Example::

    import gymnasium as gym
    import ram_env

    env = gym.make("RAM-ClutteredMNIST-v0")
    ram_env.task_kind(env)               # "classification"
    ram_env.glimpse_sensor(env).shape    # (3, 12, 12)
"""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np

from ram_env.core import GlimpseTask
from ram_env.datasets import Canvases
from ram_env.sensor import GlimpseSensor

__all__ = [
    "TaskKind",
    "glimpse_task",
    "task_kind",
    "glimpse_sensor",
    "image_dataset",
    "episode_image",
    "get_rng_state",
    "set_rng_state",
]

TaskKind = Literal["classification", "control"]


def glimpse_task(env: gym.Env | gym.vector.VectorEnv) -> GlimpseTask:
    """The batched task behind a ram-gym env (single or vector, wrapped or not).

    Raises ``TypeError`` for an environment that is not ram-gym's.
    """
    task = getattr(getattr(env, "unwrapped", env), "task", None)
    if not isinstance(task, GlimpseTask):
        raise TypeError(f"not a ram-gym environment: {env!r} (make one with gym.make('RAM-...-v0'))")
    return task


def task_kind(env: gym.Env | gym.vector.VectorEnv) -> TaskKind:
    """``"classification"`` (MNIST tasks: ``info["label"]``, a label scored at the end) or
    ``"control"`` (Catch: a move every step)."""
    return glimpse_task(env).kind


def glimpse_sensor(env: gym.Env | gym.vector.VectorEnv) -> GlimpseSensor:
    """The glimpse sensor the env observes with (its ``shape`` is ``(k, g, g)``)."""
    return glimpse_task(env).sensor


def image_dataset(env: gym.Env | gym.vector.VectorEnv) -> Canvases:
    """The canvases (images, labels, translation and clutter) of a classification env.

    Raises ``ValueError`` for a control env.
    """
    task = glimpse_task(env)
    dataset = getattr(task, "dataset", None)
    if not isinstance(dataset, Canvases):
        raise ValueError(f"a {task.kind} environment has no image dataset")
    return dataset


def episode_image(env: gym.Env | gym.vector.VectorEnv, i: int = 0) -> np.ndarray:
    """The whole uint8 ``(H, W)`` image env ``i`` is playing now (what the glimpses are cut from)."""
    task = glimpse_task(env)
    if not 0 <= i < task.num_envs:
        raise IndexError(f"env index {i} out of range for {task.num_envs} env(s)")
    if not task.started:
        raise RuntimeError("episode_image() called before reset()")
    return task.frame_image(i)


def get_rng_state(env: gym.Env | gym.vector.VectorEnv) -> list[dict[str, Any]]:
    """Every episode slot's random-generator state (``len == num_envs``), plain data."""
    return [dict(g.bit_generator.state) for g in glimpse_task(env).rngs]


def set_rng_state(env: gym.Env | gym.vector.VectorEnv, state: list[dict[str, Any]]) -> None:
    """Restore states from :func:`get_rng_state`; ``ValueError`` if the counts differ or a
    state is not a generator state."""
    rngs = glimpse_task(env).rngs
    if not isinstance(state, (list, tuple)) or len(state) != len(rngs):
        count = len(state) if isinstance(state, (list, tuple)) else type(state).__name__
        raise ValueError(f"rng state has {count} env generators, this env {len(rngs)}")
    for i, (g, s) in enumerate(zip(rngs, state, strict=True)):
        try:
            g.bit_generator.state = s
        except (TypeError, ValueError, KeyError) as err:
            raise ValueError(f"rng state of env {i} is not a generator state: {err}") from err
