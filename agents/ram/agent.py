"""The RAM agent: the model of :mod:`agents.ram.model`, trained as in Mnih et al. (2014), section 3.

One update (:meth:`RAM.train_step`) reads as the paper's:

1. play a batch of episodes in the native vector environment; the location network
   samples where to look, the episode's reward ``R`` is observed
   (:func:`agents.ram.rollout.collect`);
2. the **hybrid loss** (:func:`agents.ram.losses.hybrid_loss`): the cross-entropy of the
   action network's last output against ``info["label"]`` (classification), REINFORCE
   ``-sum_t log pi(l_t | h_t) (R - b_t)`` for the location network (and for the discrete
   action when it is a policy, as in Catch), and the baseline's squared error;
3. one gradient step; the update's metrics are returned (and passed to ``learn``'s callback).

Options beyond the paper are :class:`~agents.ram.config.RAMConfig` fields, all off by
default: GAE, entropy bonus, advantage normalisation, M rollouts per image, and Catch's
true-state block (an asymmetric critic and a state decoder reading ``info["state"]`` in
training; :class:`agents.ram.rollout.TrueStateBlock`).

The paper's two extensions follow the environment's action space: with ``allow_stop=True``
the model gains a Bernoulli stop head (REINFORCE, beside the locations), with
``zoom=(a, b)`` the location policy a third output, the next glimpse's zoom, and the
glimpse network reads each glimpse's zoom beside its location.

The surface is Stable-Baselines3's: ``RAM(env_id).learn(steps)``, ``predict``, ``save``,
``RAM.load``.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch

import ram_env
from agents.base import Callback, Track
from agents.callbacks import ProgressBar
from agents.checkpoint import CheckpointError, load_checkpoint, plain, restore_weights, save_checkpoint
from agents.ram.config import (
    REMOVED_FIELDS,
    RAMConfig,
    catch_warning,
    check_config,
    track_of,
    true_state_size,
    typed_hparams,
)
from agents.ram.losses import hybrid_loss
from agents.ram.model import RecurrentAttentionModel
from agents.ram.rollout import ResetAhead, Rollout, check_observation, collect, glimpse_action
from agents.threads import choose_threads, device_threads_wanted
from ram_env.wrappers import HidePrivilegedInfo, glimpse_action_parts

__all__ = ["RAM"]


class RAM:
    """The Recurrent Attention Model agent.

    Args:
        env_id: a registered glimpse environment (``Dict`` observation with ``glimpse``
            and ``location``; ``Dict`` action with ``location`` and one ``Discrete``).
        config: the hyper-parameters, a :class:`RAMConfig` (every field typed and documented
            there); ``None``: its defaults.
        seed: seeds torch and the environments (``None``: random).
        device: torch device (``"cpu"``, ``"cuda"``): the model, the rollouts and the
            losses live there; the environments step on the CPU.
        **overrides: :class:`RAMConfig` fields that replace ``config``'s (a shorthand:
            ``RAM(env_id, num_envs=64)`` is ``RAM(env_id, RAMConfig(num_envs=64))``); each is
            checked against its field's type, and unknown names raise ``ValueError``.

    Example:
        >>> agent = RAM("RAM-MNIST-v0", RAMConfig(num_envs=64), seed=0).learn(60_000)  # doctest: +SKIP
        >>> action, state = agent.predict(obs, state, episode_start)                      # doctest: +SKIP
    """

    algo = "ram"

    def __init__(
        self,
        env_id: str,
        config: RAMConfig | None = None,
        *,
        seed: int | None = None,
        device: str = "cpu",
        **overrides: Any,
    ) -> None:
        if config is not None and not isinstance(config, RAMConfig):
            raise TypeError(
                f"config must be a RAMConfig (or None), got {type(config).__name__}; "
                "pass a seed as RAM(env_id, seed=...)"
            )
        base = dataclasses.asdict(config) if config is not None else {}
        self.config = cfg = RAMConfig(**typed_hparams({**base, **overrides}))
        self.env_id = env_id
        self.seed = int(seed) if seed is not None else int(np.random.SeedSequence().generate_state(1)[0] % 2**31)
        self.device = torch.device(device)
        probe = gym.make(env_id, **cfg.env_kwargs)
        self.observation_space: gym.spaces.Dict = probe.observation_space  # type: ignore[assignment]
        self.action_space: gym.spaces.Dict = probe.action_space  # type: ignore[assignment]
        self.action_key = self._check_spaces()
        if cfg.supervised is None:
            cfg.supervised = self.action_key == "label"
        if cfg.core is None:
            cfg.core = "rnn" if cfg.supervised else "lstm"
        check_config(cfg, self.action_key)
        if self.has_stop and cfg.location_reward != "paper":
            raise ValueError(
                f"location_reward={cfg.location_reward!r} replaces the env's reward, glimpse costs included: "
                "it does not mix with allow_stop=True"
            )
        state_size = true_state_size(cfg, env_id, probe)
        control = ram_env.task_kind(probe) == "control"
        probe.close()
        plain = cfg.critic == "baseline" and not cfg.baseline_grad_to_core
        if control and plain and cfg.state_loss_weight == 0 and cfg.glimpse_prediction_weight == 0:
            warnings.warn(catch_warning(env_id), stacklevel=2)
        torch.manual_seed(self.seed)
        self.policy = RecurrentAttentionModel(
            self.glimpse_shape, self.n_actions, **cfg.model_options(state_size, self.has_stop, self.has_zoom)
        ).to(self.device)
        self.optimizer: torch.optim.Optimizer
        if cfg.optimizer == "adam":
            # fused: one kernel for every parameter's update (the per-tensor loop cost ~4% of an update)
            self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=cfg.learning_rate, fused=True)
        else:
            self.optimizer = torch.optim.SGD(self.policy.parameters(), lr=cfg.learning_rate, momentum=cfg.momentum)
        self.num_timesteps = 0  #: env steps taken in training (every env counts)
        self.num_updates = 0
        self.num_episodes = 0
        self.total_timesteps = 0  #: the target of the current learn() (for the schedule)
        self.checkpoint_extra: dict[str, Any] = {}  #: the ``extra`` of the checkpoint this agent was loaded from
        #: the exponential moving average of the weights (``weight_average > 0``; ``None`` until the
        #: first update): parameter name -> tensor, as in ``policy.state_dict()``
        self.averaged_weights: dict[str, torch.Tensor] | None = None
        self._envs: gym.vector.VectorEnv | None = None
        self._restored_rng: dict[str, Any] | None = None  # RNG states from a checkpoint, for exact resume
        self._reset_ahead = ResetAhead()  # the next update's env reset, overlapped with this one's backward
        #: run the next batch's env reset in a background thread beside this update's backward pass
        #: and optimizer step (:class:`agents.ram.rollout.ResetAhead`): ``True``, ``False`` (every
        #: reset in line), or ``None`` (default): only while torch uses fewer threads than the
        #: machine has cores, so the reset has a core of its own (with every core running torch the
        #: overlap measured 4-9% slower; with one spare core 7-33% faster: benchmarks/RESULTS.md).
        #: Training is the same either way.
        self.overlap_resets: bool | None = None

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """Keywords of the environment this agent acts in."""
        return dict(self.config.env_kwargs)

    def make_env(self, split: str | None = None, **overrides: Any) -> gym.Env:
        """The environment this agent acts in (its ``env_id`` with its env keywords, e.g. a
        shipped model's ``initial_location="center"``): the env its scores are for.  ``split``:
        ``"train"``, ``"validation"`` or ``"test"`` (classification); ``overrides``: more
        keywords (``render_mode="rgb_array"``)."""
        kwargs = {**self.env_kwargs, **overrides}
        if split is not None:
            kwargs["split"] = split
        return gym.make(self.env_id, **kwargs)

    @property
    def track(self) -> Track:
        """``"privileged"`` when training reads ``info["label"]`` (the hybrid loss) or
        ``info["state"]`` (the true-state block); ``"rl"`` for pure REINFORCE on the reward."""
        return track_of(dataclasses.asdict(self.config))

    def _check_spaces(self) -> str:
        obs, act = self.observation_space, self.action_space
        if not isinstance(obs, gym.spaces.Dict) or set(obs.spaces) - {"zoom"} != {"glimpse", "location"}:
            raise ValueError(
                f"{self.env_id}: RAM needs Dict(glimpse, location[, zoom]) observations, got {obs} "
                "(for Catch use the default obs_mode='glimpse')"
            )
        try:
            key = glimpse_action_parts(act)[0]
        except ValueError as err:
            raise ValueError(f"{self.env_id}: RAM needs Dict(location, <one Discrete>) actions: {err}") from err
        self.glimpse_shape: tuple[int, ...] = tuple(obs["glimpse"].shape or ())
        self.has_stop = "stop" in act.spaces  #: the env offers early stopping: the RAM learns when to stop
        self.has_zoom = "zoom" in act.spaces  #: the env lets the agent choose the scale: a third location output
        self.n_actions = int(act[key].n)  # type: ignore[attr-defined]  # a Discrete, checked above
        return key

    # ------------------------------------------------------------------ training
    def _make_envs(self) -> gym.vector.VectorEnv:
        if self._envs is None:
            cfg = self.config
            repeats = {"rollouts_per_image": cfg.rollouts_per_image} if cfg.rollouts_per_image > 1 else {}
            envs = gym.make_vec(self.env_id, num_envs=cfg.num_envs, **{**cfg.env_kwargs, **repeats})
            # the rl track trains on the reward alone: it never gets the label or the true state
            self._envs = HidePrivilegedInfo(envs) if self.track == "rl" else envs
        return self._envs

    def collect(
        self,
        envs: gym.vector.VectorEnv,
        seed: int | None = None,
        deterministic: bool = False,
        uniform_fixations: bool = False,
    ) -> Rollout:
        """Play one batch of complete episodes in ``envs`` (see :func:`agents.ram.rollout.collect`)."""
        return collect(
            self.policy,
            envs,
            self.action_key,
            bool(self.config.supervised),
            seed=seed,
            deterministic=deterministic,
            reset_ahead=self._reset_ahead,
            uniform_fixations=uniform_fixations,
            greedy_group=self.config.rollouts_per_image if self.config.critic == "self_critical" else 0,
        )

    @property
    def warming_up(self) -> bool:
        """Whether the next update is part of the warm start (``warm_start_steps``): random
        fixations, no policy gradient for the location network."""
        return self.num_timesteps < self.config.warm_start_steps

    def train_step(self, envs: gym.vector.VectorEnv, seed: int | None = None) -> dict[str, float]:
        """One update: a batch of episodes, the hybrid loss, one gradient step.  Returns its metrics."""
        cfg = self.config
        lr = cfg.learning_rate_at(self.num_timesteps / max(1, self.total_timesteps), self.num_timesteps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        rollout = self.collect(envs, seed=seed, uniform_fixations=self.warming_up)
        if self._overlapping():
            self._reset_ahead.start(envs)  # the next batch's reset runs beside the backward pass
        loss, terms = hybrid_loss(rollout, bool(cfg.supervised), **cfg.loss_options())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        max_norm = cfg.max_grad_norm if cfg.max_grad_norm > 0 else float("inf")
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.policy.parameters(), max_norm, foreach=True))
        self.optimizer.step()
        if cfg.weight_average > 0:
            self._update_average()
        return self._metrics(rollout, lr, grad_norm, terms)

    @torch.no_grad()
    def _update_average(self) -> None:
        """One step of the weights' moving average (``weight_average``), after an update."""
        params = dict(self.policy.named_parameters())
        if self.averaged_weights is None:
            self.averaged_weights = {name: p.detach().clone() for name, p in params.items()}
            return
        n = self.num_updates
        decay = min(self.config.weight_average, (1 + n) / (10 + n))
        for name, average in self.averaged_weights.items():
            average.lerp_(params[name], 1.0 - decay)

    def _overlapping(self) -> bool:
        """Whether this update starts the next reset in the background (see ``overlap_resets``)."""
        if self.overlap_resets is None:
            return torch.get_num_threads() < (os.cpu_count() or 1)
        return bool(self.overlap_resets)

    def _metrics(self, rollout: Rollout, lr: float, grad_norm: float, terms: dict[str, float]) -> dict[str, float]:
        """Count the batch's steps and episodes; the update's metrics."""
        steps = int(rollout.alive.sum().item())
        episodes = rollout.alive.shape[1]
        self.num_timesteps += steps
        self.num_episodes += episodes
        self.num_updates += 1
        reward = (rollout.reward * rollout.alive).sum(0)
        metrics = {
            "update": self.num_updates,
            "env_steps": self.num_timesteps,
            "episodes": self.num_episodes,
            "reward": reward.mean().item(),
            "learning_rate": lr,
            "grad_norm": grad_norm,
            "location_std": self.config.location_std,
            "location_abs_mean": rollout.locations.abs().mean().item(),
            "episode_length": steps / episodes,
            **terms,
        }
        if self.config.supervised:
            assert rollout.labels is not None
            metrics["accuracy"] = (rollout.final_logits.argmax(-1) == rollout.labels).float().mean().item()
        return metrics

    def learn(
        self,
        total_timesteps: int,
        callback: Callback | None = None,
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
        threads: int | Literal["auto"] | None = "auto",
    ) -> RAM:
        """Train until ``total_timesteps`` env steps (every env counts) have been taken.

        Args:
            total_timesteps: training budget in env steps (an episode of RAM-MNIST-v0 is 6).
            callback: called with each update's metrics; returning ``False`` stops training
                (see :mod:`agents.callbacks` for checkpoints, time limits, signals, logs).
            reset_num_timesteps: ``False`` continues counting (and the schedule) from a
                loaded or interrupted agent: ``RAM.load(checkpoint).learn(n, callback,
                reset_num_timesteps=False)`` ends exactly where an uninterrupted run would.
            progress_bar: show a tqdm bar of the env steps and the training score.
            threads: torch CPU threads.  ``"auto"`` (default, as ``ram train``): the cores idle
                when this process first trains, chosen once per process - torch's own default
                of every core made an update 15x slower beside one busy process; an int sets
                that many; ``None`` leaves torch's setting alone.
        """
        if threads is not None and device_threads_wanted(self.device, threads):
            choose_threads(threads)
        if isinstance(total_timesteps, bool) or not isinstance(total_timesteps, (int, np.integer)):
            raise TypeError(f"total_timesteps must be an int, got {total_timesteps!r}")
        if total_timesteps < 0:
            raise ValueError(f"total_timesteps must be >= 0, got {total_timesteps}")
        if reset_num_timesteps:
            self.num_timesteps = self.num_updates = self.num_episodes = 0
            self.total_timesteps = int(total_timesteps)
        else:
            self.total_timesteps = max(self.total_timesteps, int(total_timesteps))
        envs = self._make_envs()
        seed: int | None = None
        if self._restored_rng is not None:  # resume exactly where the checkpoint stopped
            self._set_rng_state(self._restored_rng)
            self._restored_rng = None
        elif self.num_updates == 0:  # a fresh run: seed torch and every environment
            torch.manual_seed(self.seed)
            seed = self.seed
        self.policy.train()
        bar = ProgressBar(self, self.total_timesteps, progress_bar) if progress_bar else None
        try:
            while self.num_timesteps < self.total_timesteps:
                metrics = self.train_step(envs, seed=seed)
                seed = None
                if bar is not None:
                    bar(metrics)
                if callback is not None and callback(metrics) is False:
                    break
        finally:
            if bar is not None:
                bar.close()
            self._reset_ahead.wait()  # nothing runs in the background once learn() returns
        return self

    def init_weights(self, other: RAM) -> None:
        """Start from ``other``'s network weights (fine-tuning): the optimizer, the schedule and
        the step count stay this agent's own, fresh.  ``other`` must have the same network
        (hidden sizes, core, glimpse shape, actions, stop/zoom heads).

        Raises:
            ValueError: ``other`` is not a RAM, or its weights do not fit this network (the
                message names the first parameter that differs).
        """
        if not isinstance(other, RAM):
            raise ValueError(f"weights of a {getattr(other, 'algo', type(other).__name__)} agent cannot start a RAM")
        if tuple(other.glimpse_shape) != tuple(self.glimpse_shape):
            raise ValueError(
                f"the checkpoint's network sees glimpses of shape {tuple(other.glimpse_shape)} "
                f"({other.env_id}), this one {tuple(self.glimpse_shape)} ({self.env_id})"
            )
        mine, theirs = self.policy.state_dict(), other.policy.state_dict()
        for name in sorted(set(mine) | set(theirs)):
            if name not in theirs or name not in mine:
                where = "this network" if name not in mine else "the checkpoint"
                raise ValueError(f"the checkpoint's network does not fit this one: {name} is missing from {where}")
            if mine[name].shape != theirs[name].shape:
                raise ValueError(
                    f"the checkpoint's network does not fit this one: {name} has shape "
                    f"{tuple(theirs[name].shape)} there, {tuple(mine[name].shape)} here"
                )
        self.policy.load_state_dict(theirs)

    def set_budget(self, total_timesteps: int) -> None:
        """Change the budget of the ``learn`` under way (its learning-rate schedule follows):
        :class:`agents.callbacks.TimeBudget` uses it to end a run, fully decayed, at a deadline."""
        self.total_timesteps = max(self.num_timesteps, int(total_timesteps))

    def _rng_state(self) -> dict[str, Any]:
        """torch's and the training environments' generator states (for exact resume)."""
        state: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self._envs is not None:
            before = self._reset_ahead.rng_state(self._envs)  # a reset in flight has not happened yet
            state["envs"] = before if before is not None else ram_env.get_rng_state(self._envs)
        return state

    def _set_rng_state(self, state: dict[str, Any]) -> None:
        try:
            torch.set_rng_state(state["torch"])
        except (TypeError, RuntimeError, KeyError) as err:
            raise CheckpointError(f"checkpoint field rng.torch is not a torch generator state: {err}") from err
        if "envs" in state:
            self._reset_ahead.cancel()
            try:
                ram_env.set_rng_state(self._make_envs(), state["envs"])
            except ValueError as err:
                raise CheckpointError(f"checkpoint field rng.envs: {err}") from err

    # ------------------------------------------------------------------ acting
    def predict(
        self,
        observation: dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[dict[str, Any], tuple[np.ndarray, ...]]:
        """The env's native action for one observation or a batch.

        Args:
            observation: ``{"glimpse": (k, g, g) or (N, k, g, g), "location": (2,) or (N, 2)}``
                (and ``"zoom": (1,) or (N, 1)`` when the env has a zoom).
            state: the recurrent state returned by the previous call (``None``: start).
            episode_start: bool ``(N,)``: reset the state of these episodes first.
            deterministic: fixation = policy mean and action = argmax (test time);
                ``False`` samples both (the label is argmax in classification either way).

        Returns:
            ``(action, state)``: ``{"location": float32 (2,) or (N, 2), <key>: int or
            int64 (N,)}`` (plus ``stop`` and ``zoom`` ``(1,) or (N, 1)`` when the env has them)
            and the new state (tuple of float32 ``(N, hidden)`` arrays).
        """
        glimpse, location, single = check_observation(observation, self.glimpse_shape, self.env_id, self.has_zoom)
        n = glimpse.shape[0]
        if state is None:
            torch_state = self.policy.initial_state(n)
        else:
            if len(state) != self.policy.core_network.n_state or any(
                np.shape(s) != (n, self.config.hidden_size) for s in state
            ):
                raise ValueError(
                    f"state must be {self.policy.core_network.n_state} array(s) of shape "
                    f"({n}, {self.config.hidden_size}), got {[np.shape(s) for s in state]}"
                )
            torch_state = tuple(torch.as_tensor(np.asarray(s, dtype=np.float32), device=self.device) for s in state)
        if episode_start is not None:
            start = np.asarray(episode_start, dtype=bool).reshape(-1)
            if start.shape != (n,):
                raise ValueError(f"episode_start must have shape ({n},), got {np.shape(episode_start)}")
            keep = torch.as_tensor(~start, dtype=torch.float32, device=self.device)[:, None]
            torch_state = tuple(s * keep for s in torch_state)
        with torch.no_grad():
            out = self.policy(
                torch.as_tensor(glimpse, device=self.device),
                torch.as_tensor(location, device=self.device),
                torch_state,
                deterministic=deterministic,
                sample_action=not self.config.supervised,
            )
        action = glimpse_action(out, self.action_key, clip=True)  # clipped, as the env clips them
        new_state = tuple(s.cpu().numpy() for s in out.state)
        if single:
            return {k: v[0] if k in ("location", "zoom") else int(v[0]) for k, v in action.items()}, new_state
        return action, new_state

    # ------------------------------------------------------------------ persistence
    def save(
        self,
        path: str | os.PathLike,
        extra: dict[str, Any] | None = None,
        weights_only: bool = False,
        averaged: bool = False,
    ) -> Path:
        """Write weights, optimizer, config, progress and RNG states to ``path`` (atomically).

        ``weights_only=True`` leaves out the optimizer and RNG states (a smaller file for
        sharing: it predicts and evaluates identically, but cannot resume exactly).
        ``averaged=True`` writes the moving average of the weights (``weight_average``) as
        the model's weights, without optimizer and RNG states: a model to evaluate or share.

        Raises:
            ValueError: ``averaged=True`` and there is no average (``weight_average`` is 0,
                or no update has run yet).
        """
        if averaged and self.averaged_weights is None:
            raise ValueError(
                "this agent has no averaged weights: train with weight_average > 0 (e.g. --set weight_average=0.9995)"
            )
        payload = {
            "algo": self.algo,
            "env_id": self.env_id,
            "track": self.track,
            "config": plain(dataclasses.asdict(self.config), "config"),
            "seed": self.seed,
            "model": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "progress": {
                "num_timesteps": self.num_timesteps,
                "num_updates": self.num_updates,
                "num_episodes": self.num_episodes,
                "total_timesteps": self.total_timesteps,
            },
            "spaces": {
                "glimpse": list(self.glimpse_shape),
                "n_actions": self.n_actions,
                "action_key": self.action_key,
            },
            "extra": plain(extra or {}, "extra"),
            "rng": self._rng_state(),
        }
        if self.averaged_weights is not None:
            payload["model_averaged"] = self.averaged_weights
        if averaged:
            payload["model"] = payload.pop("model_averaged")
            payload["extra"] = {**payload["extra"], "weights": f"moving average, decay {self.config.weight_average}"}
        if weights_only or averaged:
            del payload["optimizer"], payload["rng"]
        return save_checkpoint(path, payload)

    @classmethod
    def load_pretrained(cls, env_id: str, track: str | None = None) -> RAM:
        """The checkpoint shipped with ram-gym for ``env_id`` (see ``agents.pretrained.available()``).

        ``track``: ``"rl"`` for the model trained from the reward alone, ``"privileged"`` for
        the one whose training read ``info["label"]`` or ``info["state"]``; ``None``: the
        env's own model (``agents.pretrained.tracks(env_id)`` lists them, its own first).
        """
        from agents.pretrained import pretrained_path

        return cls.load(pretrained_path(env_id, track), env_id=env_id)

    @classmethod
    def load(
        cls, path: str | os.PathLike, env_id: str | None = None, device: str = "cpu", averaged: bool = False
    ) -> RAM:
        """Load a checkpoint written by :meth:`save` (``env_id``: require this environment).

        ``averaged=True``: the network gets the checkpoint's moving average of the weights
        (``weight_average``) instead of its weights - to evaluate the average of a run in
        progress.  ``CheckpointError`` if the checkpoint has none.
        """
        data = load_checkpoint(path, algo=cls.algo, env_id=env_id)
        config = dict(data["config"])
        for name, only in REMOVED_FIELDS.items():  # written by older versions
            if name in config and config.pop(name) != only:
                raise CheckpointError(
                    f"{path}: trained with {name}={data['config'][name]!r}, an option this version removed "
                    f"(the PPO-style clipped updates); it cannot be loaded"
                )
        try:
            agent = cls(data["env_id"], seed=data.get("seed"), device=device, **config)  # checked field by field
        except (ValueError, TypeError) as err:
            raise CheckpointError(f"{path}: its config no longer makes an agent: {err}") from err
        restore_weights(data, path, agent.policy, agent.optimizer)
        if "model_averaged" in data:
            agent.averaged_weights = _averaged_weights(data["model_averaged"], agent.policy, path)
        if averaged:
            if agent.averaged_weights is None:
                raise CheckpointError(f"{path} has no averaged weights (trained with weight_average=0)")
            agent.policy.load_state_dict(agent.averaged_weights)
        if isinstance(agent.optimizer, torch.optim.Adam):  # checkpoints of older versions have fused=None
            for group in agent.optimizer.param_groups:
                if group.get("fused") is None:
                    group["fused"] = True
        rng = data.get("rng")
        if rng is not None:
            _check_rng(rng, path)
        progress = data.get("progress", {})
        agent.num_timesteps = int(progress.get("num_timesteps", 0))
        agent.num_updates = int(progress.get("num_updates", 0))
        agent.num_episodes = int(progress.get("num_episodes", 0))
        agent.total_timesteps = int(progress.get("total_timesteps", 0))
        agent.checkpoint_extra = data.get("extra", {})
        agent._restored_rng = data.get("rng")
        return agent

    def __repr__(self) -> str:
        return f"RAM({self.env_id!r}, core={self.config.core!r}, steps={self.num_timesteps})"


def _averaged_weights(field: Any, policy: torch.nn.Module, path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A checkpoint's ``model_averaged`` field, checked against the network it belongs to."""
    params = dict(policy.named_parameters())
    if not isinstance(field, dict) or set(field) != set(params):
        names = sorted(field) if isinstance(field, dict) else type(field).__name__
        raise CheckpointError(f"{path}: field model_averaged does not name this network's parameters (got {names})")
    for name, param in params.items():
        value = field[name]
        if not isinstance(value, torch.Tensor) or value.shape != param.shape or not value.is_floating_point():
            got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise CheckpointError(
                f"{path}: field model_averaged.{name} should be a float tensor of shape {tuple(param.shape)}, got {got}"
            )
    return {name: field[name].to(param.device, param.dtype) for name, param in params.items()}


def _check_rng(rng: dict[str, Any], path: str | os.PathLike) -> None:
    """A checkpoint's ``rng`` field: torch's generator state and one state per env."""
    want = torch.get_rng_state()
    state = rng.get("torch")
    if not isinstance(state, torch.Tensor) or state.dtype != want.dtype or state.shape != want.shape:
        raise CheckpointError(f"{path}: field rng.torch is not a torch generator state")
    envs = rng.get("envs", [])
    if not isinstance(envs, list) or not all(isinstance(s, dict) and "bit_generator" in s for s in envs):
        raise CheckpointError(f"{path}: field rng.envs is not a list of numpy generator states")
