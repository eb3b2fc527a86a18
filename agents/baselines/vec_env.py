"""A Stable-Baselines3 ``VecEnv`` over ram-gym's batched tasks, so SB3 gets the batched speed.

SB3 resets a finished episode in the same ``step`` that ends it and reports the last
observation as ``info["terminal_observation"]``; ram-gym's Gymnasium vector envs reset on
the next step.  :class:`GlimpseVecEnv` therefore drives the batched
:class:`~ram_env.core.GlimpseTask` directly (one batched numpy step for all envs), decodes
SB3's flat actions with an :class:`~ram_env.wrappers.ActionEncoding`, and adds the
``info["episode"]`` statistics SB3's ``Monitor`` would.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

import ram_env
from ram_env.core import info_at
from ram_env.wrappers import ActionEncoding, HistoryBuffer, make_encoding, strip_privileged

__all__ = ["GlimpseVecEnv"]


class GlimpseVecEnv(VecEnv):
    """``num_envs`` episodes of a ram-gym env as an SB3 ``VecEnv``.

    Args:
        env_id: a registered ram-gym id.
        num_envs: episodes stepped together.
        encoding: ``"grid"``, ``"discrete"`` or ``"box"`` for glimpse envs; ``None`` when the
            env's action space is already flat (Catch with ``obs_mode="full"``).
        grid: fixation points per side for the grid encodings.
        env_kwargs: keywords of the environment.
    """

    def __init__(
        self,
        env_id: str,
        num_envs: int,
        encoding: str | None = "grid",
        grid: int | None = None,
        env_kwargs: dict[str, Any] | None = None,
        history: int | None = None,
    ) -> None:
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        vector = gym.make_vec(env_id, num_envs=num_envs, **self.env_kwargs)
        self.task = ram_env.glimpse_task(vector)
        native = self.task.single_action_space
        if isinstance(native, gym.spaces.Dict):
            if encoding is None:
                raise ValueError(f"{env_id} has Dict actions: choose an encoding ('grid', 'discrete' or 'box')")
            self.encoding: ActionEncoding | None = make_encoding(encoding, native, grid)
            action_space = self.encoding.space
        else:
            if encoding is not None:
                raise ValueError(
                    f"{env_id} with {self.env_kwargs} already has flat actions ({native}); use encoding=None"
                )
            self.encoding = None
            action_space = native
        observation_space = self.task.single_observation_space
        self.history: HistoryBuffer | None = None
        if history is not None:
            if not isinstance(observation_space, gym.spaces.Dict):
                raise ValueError(
                    f"history needs glimpse observations; {env_id} with {self.env_kwargs} has {observation_space}"
                )
            self.history = HistoryBuffer(self.task.num_envs, history, observation_space)
            observation_space = self.history.space
        super().__init__(self.task.num_envs, observation_space, action_space)
        self._all = np.arange(self.num_envs)
        self._returns = np.zeros(self.num_envs)
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)
        self._actions: np.ndarray | None = None
        self._start = time.perf_counter()

    def decode(self, actions: np.ndarray) -> Any:
        """SB3's flat actions ``(N, ...)`` -> the env's native batched action."""
        return actions if self.encoding is None else self.encoding.decode(actions)

    def reset(self) -> Any:
        self.task.seed(self._seeds)
        self.task.reset(self._all)
        self._reset_seeds()
        self._returns[:] = 0
        self._lengths[:] = 0
        return self._observe(restarted=self._all)

    def _observe(self, restarted: np.ndarray | None = None) -> Any:
        """The observations SB3 sees: the task's, or (``history``) the last k of them."""
        obs = self.task.observe()
        if self.history is None:
            return obs
        if restarted is None:
            self.history.push(obs)
        else:
            self.history.clear(restarted)
            self.history.push(self.task.observe(restarted), restarted)
        return self.history.observe()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        if not self.task.started:
            raise RuntimeError("step() called before reset()")
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        action = self.task.check_action(self.decode(self._actions), batched=True)
        reward, terminated = self.task.step(self._all, action)
        self._returns += reward
        self._lengths += 1
        obs = self._observe()
        info_arrays = strip_privileged(self.task.info())  # SB3 agents are of the rl track
        infos: list[dict[str, Any]] = [info_at(info_arrays, i) for i in range(self.num_envs)]
        done = np.flatnonzero(terminated)
        if done.size:
            elapsed = round(time.perf_counter() - self._start, 6)
            for i in done:
                terminal = {k: v[i] for k, v in obs.items()} if isinstance(obs, dict) else obs[i]
                infos[i]["terminal_observation"] = terminal
                infos[i]["TimeLimit.truncated"] = False
                infos[i]["episode"] = {"r": float(self._returns[i]), "l": int(self._lengths[i]), "t": elapsed}
            self._returns[done] = 0
            self._lengths[done] = 0
            self.task.reset(done)
            obs = self._observe(restarted=done) if self.history is not None else self.task.observe()
        return obs, reward.astype(np.float32), terminated.copy(), infos

    def close(self) -> None:
        pass

    # SB3 asks these of wrapped environments; a batched task has no per-env objects
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if attr_name == "render_mode":
            return [None for _ in self._get_indices(indices)]
        value = getattr(self.task, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.task, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        raise AttributeError(f"GlimpseVecEnv has no per-env method {method_name!r}")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        from stable_baselines3.common.monitor import Monitor

        # episode statistics are reported as a Monitor would
        return [wrapper_class is Monitor for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [self.task.render_frame(i) for i in range(self.num_envs)]
