"""Stable-Baselines3 / sb3-contrib baselines on ram-gym, with the same surface as the RAM.

``SB3Agent("ppo", "RAM-MNIST-v0").learn(steps)``; ``predict`` returns the env's *native*
action (so :func:`agents.evaluation.evaluate` scores every algorithm alike); ``save`` and
``load`` use ram-gym's plain-data checkpoints (``torch.load(weights_only=True)``), not
SB3's pickled zip files.

Algorithms: ``ppo``, ``a2c``, ``dqn`` (SB3) and ``recurrent-ppo`` (sb3-contrib).  Glimpse
observations go through :class:`~agents.baselines.extractors.GlimpseExtractor`; actions
through a flat encoding (:mod:`ram_env.wrappers`): ``grid`` (``MultiDiscrete``) by default,
``discrete`` for DQN, or ``box``.  Hyper-parameters come from
``agents/baselines/hyperparams/<algo>.yml`` (``default`` then the env id), then keywords.
"""

from __future__ import annotations

import copy
import os
from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from agents.base import Track
from agents.baselines.extractors import GlimpseExtractor, HistoryExtractor, SmallScreenCNN
from agents.baselines.vec_env import GlimpseVecEnv
from agents.checkpoint import CheckpointError, load_checkpoint, plain, restore_weights, save_checkpoint
from agents.yamlfile import parse
from ram_env.wrappers import HistoryBuffer

__all__ = ["SB3Agent", "SB3_ALGOS", "hyperparameters"]

#: algorithm name -> (module, class)
SB3_ALGOS: dict[str, tuple[str, str]] = {
    "ppo": ("stable_baselines3", "PPO"),
    "a2c": ("stable_baselines3", "A2C"),
    "dqn": ("stable_baselines3", "DQN"),
    "recurrent-ppo": ("sb3_contrib", "RecurrentPPO"),
}
_OWN_KEYS = ("n_envs", "encoding", "grid", "history", "env_kwargs")  # ours, not SB3 constructor arguments


def hyperparameters(algo: str, env_id: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """``default`` of ``hyperparams/<algo>.yml``, updated by its ``env_id`` entry, then ``overrides``."""
    if algo not in SB3_ALGOS:
        raise ValueError(f"unknown SB3 algorithm {algo!r}; known: {sorted(SB3_ALGOS)}")
    name = algo.replace("-", "_") + ".yml"
    text = resources.files("agents.baselines").joinpath("hyperparams", name).read_text()
    table = parse(text, f"hyperparams/{name}") or {}
    params = copy.deepcopy(table.get("default", {}))
    for key, value in (table.get(env_id) or {}).items():
        if key in ("policy_kwargs", "env_kwargs"):
            params.setdefault(key, {}).update(value)
        else:
            params[key] = value
    for key, value in (overrides or {}).items():
        params[key] = value
    return params


class _MetricsCallback(BaseCallback):
    """Calls ``fn(metrics)`` after every SB3 rollout; ``fn`` returning ``False`` stops training."""

    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn
        self.stop = False

    def _on_step(self) -> bool:
        return not self.stop

    def _on_rollout_end(self) -> None:
        if self.fn is None:
            return
        episodes = self.model.ep_info_buffer
        reward = float(np.mean([e["r"] for e in episodes])) if episodes else float("nan")
        self.stop = self.fn({"env_steps": self.model.num_timesteps, "reward": reward}) is False


class SB3Agent:
    """A Stable-Baselines3 (or sb3-contrib) algorithm on a ram-gym environment.

    Args:
        algo: ``"ppo"``, ``"a2c"``, ``"dqn"`` or ``"recurrent-ppo"``.
        env_id: a ram-gym id.
        seed: random seed.
        env_kwargs: environment keywords (e.g. ``{"obs_mode": "full"}`` for Catch), over
            the YAML's ``env_kwargs`` (e.g. the reward variant the algorithm is tuned for).
        **hparams: override the YAML hyper-parameters (SB3 arguments, ``n_envs``,
            ``encoding``, ``grid``, ``history``, ``env_kwargs``).
    """

    track: Track = "rl"  #: learns from the reward alone (never reads info["label"] or info["state"])

    def __init__(
        self, algo: str, env_id: str, seed: int | None = 0, env_kwargs: dict[str, Any] | None = None, **hparams: Any
    ) -> None:
        self.algo = algo
        self.env_id = env_id
        self.seed = seed
        self.hparams = hyperparameters(algo, env_id, hparams)
        params = dict(self.hparams)
        tuned_env = params.pop("env_kwargs", None) or {}
        if not isinstance(tuned_env, dict):
            raise ValueError(f"{algo} hyper-parameter env_kwargs must be a mapping, got {tuned_env!r}")
        self.env_kwargs = {**tuned_env, **(env_kwargs or {})}
        n_envs = int(params.pop("n_envs", 16))
        encoding = params.pop("encoding", "grid")
        grid = params.pop("grid", None)
        self.history_length = params.pop("history", None)
        if self.history_length is not None and algo == "recurrent-ppo":
            raise ValueError("history is for memoryless policies; RecurrentPPO already remembers (drop history)")
        probe = gym.make(env_id, **self.env_kwargs)
        full_screen = not isinstance(probe.action_space, gym.spaces.Dict)
        probe.close()
        if full_screen:  # the whole screen: no fixations to encode, no glimpses to remember
            encoding = None
            if "history" not in hparams:  # the YAML's glimpse history is for the glimpse env
                self.history_length = None
                self.hparams.pop("history", None)
        elif algo == "dqn" and encoding != "discrete":
            raise ValueError(f"DQN needs Discrete actions: use encoding='discrete', not {encoding!r}")
        self.vec_env = GlimpseVecEnv(env_id, n_envs, encoding, grid, self.env_kwargs, history=self.history_length)
        module, cls = SB3_ALGOS[algo]
        try:
            algo_class = getattr(__import__(module, fromlist=[cls]), cls)
        except ImportError as err:
            raise ImportError(f"{algo} needs {module}: pip install 'ram-gym[baselines]'") from err
        policy_kwargs = dict(params.pop("policy_kwargs", {}) or {})
        if full_screen:
            policy_kwargs.setdefault("features_extractor_class", SmallScreenCNN)
            policy = "CnnLstmPolicy" if algo == "recurrent-ppo" else "CnnPolicy"
        else:
            extractor = GlimpseExtractor if self.history_length is None else HistoryExtractor
            policy_kwargs.setdefault("features_extractor_class", extractor)
            policy = "MultiInputLstmPolicy" if algo == "recurrent-ppo" else "MultiInputPolicy"
        try:
            self.model = algo_class(
                policy, self.vec_env, seed=seed, verbose=0, device="cpu", policy_kwargs=policy_kwargs, **params
            )
        except TypeError as err:
            raise ValueError(f"bad {algo} hyper-parameters {sorted(params)}: {err}") from err
        self.recurrent = algo == "recurrent-ppo"

    @property
    def num_timesteps(self) -> int:
        return int(self.model.num_timesteps)

    def learn(self, total_timesteps: int, callback: Any = None, reset_num_timesteps: bool = True) -> SB3Agent:
        """Train for ``total_timesteps`` env steps (every env counts), as SB3 counts them.

        ``callback(metrics) -> bool | None`` is called after every rollout with
        ``env_steps`` and the mean episode reward; returning ``False`` stops.
        """
        adapter = _MetricsCallback(callback)
        remaining = total_timesteps if reset_num_timesteps else max(0, total_timesteps - self.num_timesteps)
        self.model.learn(remaining, callback=adapter, reset_num_timesteps=reset_num_timesteps)
        return self

    def predict(
        self, observation: Any, state: Any = None, episode_start: np.ndarray | None = None, deterministic: bool = True
    ) -> tuple[Any, Any]:
        """The env's native action (one observation or a batch) and the recurrent state."""
        single = self._is_single(observation)
        obs = (
            {k: np.asarray(v)[None] for k, v in observation.items()}
            if single and isinstance(observation, dict)
            else (np.asarray(observation)[None] if single else observation)
        )
        n = len(next(iter(obs.values()))) if isinstance(obs, dict) else len(obs)
        if episode_start is None:
            episode_start = np.zeros(n, dtype=bool) if state is not None else np.ones(n, dtype=bool)
        if self.recurrent:
            flat, state = self.model.predict(
                obs, state=state, episode_start=np.asarray(episode_start), deterministic=deterministic
            )
        elif self.history_length is not None:  # the history of glimpses is this agent's state
            if not isinstance(state, HistoryBuffer) or len(state.valid) != n:
                state = HistoryBuffer(n, self.history_length, self.vec_env.task.single_observation_space)
            state.clear(np.flatnonzero(np.asarray(episode_start, dtype=bool)))
            state.push(obs)
            flat, _ = self.model.predict(state.observe(), deterministic=deterministic)
        else:
            flat, _ = self.model.predict(obs, deterministic=deterministic)
        action = self.vec_env.decode(np.asarray(flat))
        if single:
            if isinstance(action, dict):  # one env's action: arrays stay arrays, choices become ints
                return {k: v[0] if np.ndim(v[0]) else int(v[0]) for k, v in action.items()}, state
            return int(np.asarray(action).reshape(-1)[0]), state
        return action, state

    def _is_single(self, observation: Any) -> bool:
        space = self.vec_env.task.single_observation_space  # the env's own (history is added here)
        if isinstance(space, gym.spaces.Dict):
            if not isinstance(observation, dict) or "glimpse" not in observation:
                raise ValueError(f"observation must be a dict with 'glimpse' and 'location', got {type(observation)}")
            shape = np.shape(observation["glimpse"])
            expected = space["glimpse"].shape
        else:
            shape, expected = np.shape(observation), space.shape
        if shape == expected:
            return True
        if shape[1:] == expected:
            return False
        raise ValueError(f"observation of shape {shape} does not fit {expected} or (N, *{expected})")

    def save(self, path: str | os.PathLike, extra: dict[str, Any] | None = None) -> Path:
        payload = {
            "algo": self.algo,
            "env_id": self.env_id,
            "config": plain({"hparams": self.hparams, "env_kwargs": self.env_kwargs}, "config"),
            "seed": self.seed,
            "model": self.model.policy.state_dict(),
            "optimizer": self.model.policy.optimizer.state_dict(),  # so a resumed run keeps Adam's moments
            "progress": {"num_timesteps": self.num_timesteps},
            "extra": plain(extra or {}, "extra"),
        }
        return save_checkpoint(path, payload)

    @classmethod
    def load(cls, path: str | os.PathLike, env_id: str | None = None) -> SB3Agent:
        data = load_checkpoint(path, env_id=env_id)
        if data["algo"] not in SB3_ALGOS:
            raise CheckpointError(f"{path} holds a {data['algo']!r} model, not a Stable-Baselines3 one")
        config = data["config"]
        hparams = dict(config.get("hparams", {}))
        hparams.pop("env_kwargs", None)  # already merged into the saved env_kwargs
        agent = cls(data["algo"], data["env_id"], seed=data.get("seed"), env_kwargs=config.get("env_kwargs"), **hparams)
        restore_weights(data, path, agent.model.policy, agent.model.policy.optimizer)
        agent.model.num_timesteps = int(data.get("progress", {}).get("num_timesteps", 0))
        return agent

    def __repr__(self) -> str:
        return f"SB3Agent({self.algo!r}, {self.env_id!r}, steps={self.num_timesteps})"
