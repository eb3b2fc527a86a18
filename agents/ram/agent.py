"""The RAM agent: the model of :mod:`agents.ram.model` and its REINFORCE trainer.

Training follows Mnih et al. (2014), section 3: a batch of episodes is played in the
native vector environment; the location network samples where to look, the episode's
reward ``R`` is observed, and the loss is the **hybrid loss**

* cross-entropy of the action network's last output against ``info["label"]``
  (classification only; it trains the action, core and glimpse networks),
* REINFORCE for the location network: ``-sum_t log pi(l_t | h_t) * (R - b_t)`` (and for
  the discrete action when it is a policy, as in Catch),
* mean squared error of the baseline ``b_t`` against ``R``.

Options beyond the paper (all off by default, each a :class:`RAMConfig` field): GAE with
a critic, PPO-style clipped epochs, and an asymmetric critic on the true game state
(``critic="state"``) for Catch.

The surface is Stable-Baselines3's: ``RAM(env_id).learn(steps)``, ``predict``,
``save``, ``RAM.load``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch.distributions import Categorical

import ram_env  # noqa: F401  (registers the environments)
from agents.checkpoint import CheckpointError, load_checkpoint, plain, restore_weights, save_checkpoint
from agents.ram.model import RecurrentAttentionModel, StepOutput
from ram_env.wrappers import glimpse_action_parts

__all__ = ["RAM", "RAMConfig", "hybrid_loss", "Rollout"]


@dataclass
class RAMConfig:
    """Hyper-parameters of the RAM and its trainer (every field is a ``RAM(...)`` keyword)."""

    num_envs: int = 128
    """Episodes per update (the batch size), played in parallel in the vector env."""
    rollouts_per_image: int = 1
    """M: episodes per image in a training batch (classification).  The ``num_envs``
    episodes come in ``num_envs / M`` groups that share an image and differ only in their
    sampled fixations (the env keyword of the same name), so the policy gradient compares
    M fixation sequences on each image.  Must divide ``num_envs``; evaluation is unaffected."""
    core: str | None = None
    """``"rnn"`` (paper, classification) or ``"lstm"`` (paper, Catch); ``None``: by task."""
    hidden_size: int = 256
    """Size of the core state h_t."""
    glimpse_hidden: int = 128
    """Size of h_g and h_l in the glimpse network."""
    glimpse_out: int = 256
    """Size of the glimpse feature g_t."""
    location_std: float = 0.1
    """Fixed std of the Gaussian location policy (in units of the half image)."""
    location_grad_to_core: bool = False
    """Let the location's policy gradient flow into the core and glimpse networks."""
    location_mean: str = "tanh"
    """``"tanh"`` (bounded) or ``"linear"`` (the paper's Linear(h_t); the env clips fixations)."""
    optimizer: str = "adam"
    """``"adam"`` or ``"sgd"`` (with ``momentum``)."""
    learning_rate: float = 1e-3
    """Initial learning rate."""
    momentum: float = 0.9
    """SGD momentum (ignored by Adam)."""
    lr_schedule: str = "cosine"
    """``"constant"``, ``"linear"`` or ``"cosine"`` decay to ``min_lr_fraction`` over ``learn``."""
    min_lr_fraction: float = 0.02
    """Final learning rate as a fraction of the initial one."""
    max_grad_norm: float = 0.0
    """Gradient clipping (global L2 norm); 0 disables it (the default: the location's policy
    gradient dominates the norm, so clipping at 5 also shrank the supervised gradient and
    slowed learning on RAM-MNIST-v0)."""
    reinforce_weight: float = 1.0
    """Weight of the policy-gradient terms."""
    baseline_weight: float = 1.0
    """Weight of the baseline's MSE."""
    entropy_coef: float = 0.0
    """Entropy bonus on the discrete action when it is a policy (RL tasks)."""
    normalize_advantage: bool = False
    """Standardise ``R - b_t`` over the batch (zero mean, unit std) before the policy gradient."""
    gamma: float = 1.0
    """Discount of future rewards (1: the paper's undiscounted R)."""
    gae_lambda: float = 1.0
    """1: the paper's advantage ``R_t - b_t``; < 1: generalised advantage estimation with b_t as value."""
    baseline_grad_to_core: bool = False
    """Let the baseline's regression train the core and glimpse networks (actor-critic style)."""
    critic: str = "baseline"
    """What ``b_t`` is.  ``"baseline"``: the paper's ``Linear(h_t)``.  ``"state"``: an
    asymmetric critic, an MLP on the environment's true state ``info["state"]`` (Catch),
    read during training only - the policy still acts on glimpses alone.  Pair it with
    ``gae_lambda < 1`` so each move is scored by the critic rather than by the episode's
    final reward alone."""
    state_loss_weight: float = 0.0
    """Weight of an auxiliary loss (not in the paper): a linear head reads the
    environment's true state ``info["state"]`` (Catch) out of ``h_t``, scored by MSE at
    every step.  It gives the core and glimpse networks a dense signal (where the ball
    and the paddle are), as the label's cross-entropy does in classification; the policy
    still acts on glimpses alone.  0 disables it."""
    update_epochs: int = 1
    """Gradient steps per batch of episodes.  1: the paper's REINFORCE (one step on fresh
    episodes).  > 1: PPO-style - each epoch re-evaluates the stored episodes under the
    current weights and the policy gradient uses the clipped probability ratio."""
    clip_range: float = 0.2
    """PPO's clip of the ratio ``pi_new / pi_old`` (used when ``update_epochs > 1``)."""
    minibatches: int = 1
    """Minibatches of episodes per epoch (used when ``update_epochs > 1``)."""
    supervised: bool | None = None
    """Hybrid loss with ``info["label"]``; ``None``: on for classification envs (action ``label``)."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keywords for ``gym.make_vec(env_id, ...)`` (e.g. ``{"n_glimpses": 4}``)."""


@dataclass
class Rollout:
    """A batch of complete episodes, time-major (``T`` steps x ``B`` episodes)."""

    location_log_prob: torch.Tensor  #: (T, B)
    action_log_prob: torch.Tensor  #: (T, B) log pi(a_t), zeros when the action is not a policy
    entropy: torch.Tensor  #: (T, B) of the discrete action's distribution
    baseline: torch.Tensor  #: (T, B)
    reward: torch.Tensor  #: (T, B)
    alive: torch.Tensor  #: (T, B) 1 where the step belongs to the episode
    location_used: torch.Tensor  #: (T, B) 1 where the sampled location was glimpsed (not the last step)
    final_logits: torch.Tensor  #: (B, n_actions) at each episode's last step
    labels: torch.Tensor | None  #: (B,) true labels (classification)
    locations: torch.Tensor  #: (T, B, 2) sampled fixations
    glimpses: torch.Tensor | None = None  #: (T, B, k, g, g) observed glimpses (kept for re-evaluation)
    observed_locations: torch.Tensor | None = None  #: (T, B, 2) where those glimpses were taken
    actions: torch.Tensor | None = None  #: (T, B) discrete actions taken
    true_states: torch.Tensor | None = None  #: (T, B, d) info["state"] before each step (state critic / decoder)
    state_predictions: torch.Tensor | None = None  #: (T, B, d) the state decoder's output

    def episodes(self, index: torch.Tensor) -> Rollout:
        """The episodes ``index`` ``(b,)`` of this batch (every field sliced)."""
        fields = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                fields[f.name] = None
            elif f.name in ("final_logits", "labels"):
                fields[f.name] = value[index]
            else:
                fields[f.name] = value[:, index]
        return Rollout(**fields)


def advantages(rollout: Rollout, gamma: float = 1.0, gae_lambda: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(advantage, returns)``, both ``(T, B)``, from the rollout's rewards and baselines.

    With ``gamma = gae_lambda = 1`` the advantage is the paper's ``R_t - b_t``, ``R_t``
    the rewards still to come.  Otherwise it is the generalised advantage estimate
    ``sum_k (gamma lambda)^k delta_{t+k}``, ``delta_t = r_t + gamma b_{t+1} - b_t``.
    ``returns = advantage + b_t`` is what the baseline regresses on.
    """
    batch = rollout.alive.shape[1]
    baseline = rollout.baseline.detach()
    reward = rollout.reward * rollout.alive
    advantage = torch.zeros_like(reward)
    running = torch.zeros(batch)
    for t in range(reward.shape[0] - 1, -1, -1):  # backwards over the (short) episode
        following = rollout.alive[t + 1] if t + 1 < reward.shape[0] else torch.zeros(batch)
        next_value = baseline[t + 1] * following if t + 1 < reward.shape[0] else torch.zeros(batch)
        delta = reward[t] + gamma * next_value - baseline[t]
        running = (delta + gamma * gae_lambda * following * running) * rollout.alive[t]
        advantage[t] = running
    return advantage, advantage + baseline


def _normalized(advantage: torch.Tensor, alive: torch.Tensor) -> torch.Tensor:
    live = alive > 0
    return (advantage - advantage[live].mean()) / (advantage[live].std() + 1e-8)


def hybrid_loss(
    rollout: Rollout,
    supervised: bool,
    reinforce_weight: float = 1.0,
    baseline_weight: float = 1.0,
    entropy_coef: float = 0.0,
    normalize_advantage: bool = False,
    gamma: float = 1.0,
    gae_lambda: float = 1.0,
    state_loss_weight: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The paper's hybrid loss on one batch of episodes; returns ``(loss, terms)``.

    With ``gamma = gae_lambda = 1`` (the defaults) the advantage is the paper's
    ``R_t - b_t``, ``R_t`` the rewards still to come.  Otherwise it is the generalised
    advantage estimate ``sum_k (gamma lambda)^k delta_{t+k}``, ``delta_t = r_t + gamma
    b_{t+1} - b_t``, and the baseline regresses on ``advantage + b_t`` (the lambda-return).
    ``state_loss_weight`` weighs the state decoder's MSE (when the rollout has one).
    """
    batch = rollout.alive.shape[1]
    advantage, returns = advantages(rollout, gamma, gae_lambda)
    if normalize_advantage:
        advantage = _normalized(advantage, rollout.alive)
    location_pg = -(rollout.location_log_prob * advantage * rollout.location_used).sum() / batch
    action_pg = -(rollout.action_log_prob * advantage * rollout.alive).sum() / batch
    return _combined(
        rollout,
        rollout,
        returns,
        supervised,
        location_pg,
        action_pg,
        (reinforce_weight, baseline_weight, entropy_coef, state_loss_weight),
    )


def _combined(
    current: Rollout,
    reference: Rollout,
    returns: torch.Tensor,
    supervised: bool,
    location_pg: torch.Tensor,
    action_pg: torch.Tensor,
    weights: tuple[float, float, float, float],
) -> tuple[torch.Tensor, dict[str, float]]:
    """The hybrid loss from its policy terms: ``current``'s entropy, baseline, final logits and
    state predictions (with gradients) against ``reference``'s masks, ``returns``, labels and
    true states.  ``weights``: ``(reinforce_weight, baseline_weight, entropy_coef,
    state_loss_weight)``."""
    reinforce_weight, baseline_weight, entropy_coef, state_loss_weight = weights
    steps = reference.alive.sum()
    entropy = (current.entropy * reference.alive).sum() / steps
    baseline_mse = ((current.baseline - returns) ** 2 * reference.alive).sum() / steps
    if supervised:
        cross_entropy = torch.nn.functional.cross_entropy(current.final_logits, reference.labels)
    else:
        cross_entropy = torch.zeros(())
    if current.state_predictions is not None and reference.true_states is not None:
        error = ((current.state_predictions - reference.true_states) ** 2).mean(-1)
        state_mse = (error * reference.alive).sum() / steps
    else:
        state_mse = torch.zeros(())
    loss = (
        cross_entropy
        + reinforce_weight * (location_pg + action_pg)
        + baseline_weight * baseline_mse
        - entropy_coef * entropy
        + state_loss_weight * state_mse
    )
    terms = {
        "loss": loss.item(),
        "cross_entropy": cross_entropy.item(),
        "location_pg": location_pg.item(),
        "action_pg": action_pg.item(),
        "baseline_mse": baseline_mse.item(),
        "entropy": entropy.item(),
        "state_mse": state_mse.item(),
    }
    return loss, terms


def clipped_loss(
    new: Rollout,
    old: Rollout,
    advantage: torch.Tensor,
    returns: torch.Tensor,
    supervised: bool,
    clip_range: float = 0.2,
    reinforce_weight: float = 1.0,
    baseline_weight: float = 1.0,
    entropy_coef: float = 0.0,
    state_loss_weight: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The hybrid loss with PPO's clipped policy terms, for re-evaluated episodes.

    ``new`` is ``old``'s episodes re-played under the current weights (same glimpses,
    fixations and actions); ``advantage`` and ``returns`` ``(T, B)`` come from ``old``.
    The policy factorises into the fixation (Gaussian) and the discrete action, and each
    factor gets its own clipped term ``-sum_t min(r_t A_t, clip(r_t, 1 - c, 1 + c) A_t)``,
    ``r_t = pi_new / pi_old`` of that factor: a narrow location Gaussian's ratio moves
    fast, and a joint ratio would clip the discrete action's gradient along with it.
    """
    batch = old.alive.shape[1]
    terms_pg = []
    ratios = []
    for new_lp, old_lp, mask in (
        (new.location_log_prob, old.location_log_prob, old.location_used),
        (new.action_log_prob, old.action_log_prob, old.alive),
    ):
        log_ratio = (new_lp - old_lp) * mask
        ratio = log_ratio.exp()
        surrogate = torch.min(ratio * advantage, ratio.clamp(1 - clip_range, 1 + clip_range) * advantage)
        terms_pg.append(-(surrogate * mask).sum() / batch)
        ratios.append((ratio, log_ratio, mask))
    location_pg, action_pg = terms_pg
    loss, terms = _combined(
        new,
        old,
        returns,
        supervised,
        location_pg,
        action_pg,
        (reinforce_weight, baseline_weight, entropy_coef, state_loss_weight),
    )
    with torch.no_grad():
        for name, (ratio, log_ratio, mask) in zip(("location", "action"), ratios, strict=True):
            clipped = ((ratio - 1).abs() > clip_range).float()
            terms[f"{name}_clip_fraction"] = ((clipped * mask).sum() / mask.sum().clamp(min=1)).item()
            terms[f"{name}_approx_kl"] = ((((ratio - 1) - log_ratio) * mask).sum() / mask.sum().clamp(min=1)).item()
    return loss, terms


def _action_terms(out: StepOutput, supervised: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log pi(a_t), entropy)``, each ``(B,)``, of the step's discrete action; zeros when the
    action is not a policy (classification: the label is trained by cross-entropy)."""
    if supervised:
        zeros = torch.zeros(out.action.shape[0])
        return zeros, zeros
    dist = Categorical(logits=out.action_logits)
    return dist.log_prob(out.action), dist.entropy()


def _typed(hparams: dict[str, Any]) -> dict[str, Any]:
    """Check each hyper-parameter against its :class:`RAMConfig` default's type.

    Numbers written as strings (PyYAML reads ``3e-4`` as a string) are converted;
    anything else of the wrong type raises ``ValueError`` naming the field.
    """
    defaults = RAMConfig()
    out = dict(hparams)
    for name, value in hparams.items():
        default = getattr(defaults, name)
        if default is None:  # core, supervised: None means "by task", checked later
            continue
        kind = type(default)
        if kind is float and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        ok = (
            isinstance(value, bool)
            if kind is bool
            else isinstance(value, int) and not isinstance(value, bool)
            if kind is int
            else isinstance(value, (int, float)) and not isinstance(value, bool)
            if kind is float
            else isinstance(value, kind)
        )
        if not ok:
            raise ValueError(f"RAM hyper-parameter {name} must be of type {kind.__name__}, got {value!r}")
        out[name] = float(value) if kind is float else value
    return out


class RAM:
    """The Recurrent Attention Model agent.

    Args:
        env_id: a registered glimpse environment (``Dict`` observation with ``glimpse``
            and ``location``; ``Dict`` action with ``location`` and one ``Discrete``).
        seed: seeds torch and the environments (``None``: random).
        device: torch device (``"cpu"``).
        **hparams: fields of :class:`RAMConfig`; unknown ones raise ``ValueError``.

    Example:
        >>> agent = RAM("RAM-MNIST-v0", seed=0).learn(total_timesteps=60_000)  # doctest: +SKIP
        >>> action, state = agent.predict(obs, state, episode_start)            # doctest: +SKIP
    """

    algo = "ram"

    def __init__(self, env_id: str, seed: int | None = None, device: str = "cpu", **hparams: Any) -> None:
        known = {f.name for f in dataclasses.fields(RAMConfig)}
        unknown = sorted(set(hparams) - known)
        if unknown:
            raise ValueError(f"unknown RAM hyper-parameter(s) {unknown}; known: {sorted(known)}")
        self.config = RAMConfig(**_typed(hparams))
        self.env_id = env_id
        self.seed = int(seed) if seed is not None else int(np.random.SeedSequence().entropy % 2**31)
        self.device = torch.device(device)
        probe = gym.make(env_id, **self.config.env_kwargs)
        self.observation_space, self.action_space = probe.observation_space, probe.action_space
        state_size = self._true_state_size(probe)
        probe.close()
        self.action_key = self._check_spaces()
        cfg = self.config
        if cfg.supervised is None:
            cfg.supervised = self.action_key == "label"
        if cfg.core is None:
            cfg.core = "rnn" if cfg.supervised else "lstm"
        self._check_config()
        if not cfg.supervised and cfg.critic == "baseline" and cfg.state_loss_weight == 0:
            warnings.warn(
                f"{env_id}: the paper's plain REINFORCE stayed at chance on Catch in every budget we tried "
                "(up to 3M env steps). "
                "The recipe that reaches 99.7% (benchmarks/configs/ram_catch.yaml) adds critic='state', "
                "state_loss_weight=23.0, gae_lambda=0.5, normalize_advantage=True, entropy_coef=0.23, "
                "max_grad_norm=23.0, location_mean='linear'",
                stacklevel=2,
            )
        torch.manual_seed(self.seed)
        self.policy = RecurrentAttentionModel(
            self.observation_space["glimpse"].shape,
            self.action_space[self.action_key].n,
            cfg.core,
            cfg.hidden_size,
            cfg.glimpse_hidden,
            cfg.glimpse_out,
            cfg.location_std,
            cfg.location_grad_to_core,
            cfg.location_mean,
            cfg.baseline_grad_to_core,
            state_size if cfg.critic == "state" else 0,
            state_size if cfg.state_loss_weight > 0 else 0,
        ).to(self.device)
        if cfg.optimizer == "adam":
            self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=cfg.learning_rate)
        else:
            self.optimizer = torch.optim.SGD(self.policy.parameters(), lr=cfg.learning_rate, momentum=cfg.momentum)
        self.num_timesteps = 0  #: env steps taken in training (every env counts)
        self.num_updates = 0
        self.num_episodes = 0
        self.total_timesteps = 0  #: the target of the current learn() (for the schedule)
        self._envs: gym.vector.VectorEnv | None = None
        self._restored_rng: dict[str, Any] | None = None  # RNG states from a checkpoint, for exact resume

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """Keywords of the environment this agent acts in."""
        return dict(self.config.env_kwargs)

    # ------------------------------------------------------------------ checks
    def _true_state_size(self, probe: gym.Env) -> int:
        """``d`` of the env's ``info["state"]`` when ``critic="state"`` or ``state_loss_weight > 0``
        need it; 0 otherwise."""
        cfg = self.config
        if cfg.critic not in ("baseline", "state"):
            raise ValueError(f"bad RAM config: critic must be 'baseline' or 'state', got {cfg.critic!r}")
        if cfg.state_loss_weight < 0:
            raise ValueError(f"bad RAM config: state_loss_weight must be >= 0, got {cfg.state_loss_weight}")
        users = [
            name
            for name, on in (
                ("critic='state'", cfg.critic == "state"),
                ("state_loss_weight > 0", cfg.state_loss_weight > 0),
            )
            if on
        ]
        if not users:
            return 0
        _, info = probe.reset(seed=0)
        state = np.asarray(info.get("state", ()))
        if "state" not in info or state.ndim != 1 or state.size == 0:
            raise ValueError(
                f"{' and '.join(users)} needs an environment whose info carries a true-state vector "
                f"info['state'] (RAM-Catch-v0 does); {self.env_id} gives info keys {sorted(info)}"
            )
        return int(state.size)

    def _check_spaces(self) -> str:
        obs, act = self.observation_space, self.action_space
        if not isinstance(obs, gym.spaces.Dict) or set(obs.spaces) != {"glimpse", "location"}:
            raise ValueError(
                f"{self.env_id}: RAM needs Dict(glimpse, location) observations, got {obs} "
                "(for Catch use the default obs_mode='glimpse')"
            )
        try:
            return glimpse_action_parts(act)[0]
        except ValueError as err:
            raise ValueError(f"{self.env_id}: RAM needs Dict(location, <one Discrete>) actions: {err}") from err

    def _check_config(self) -> None:
        cfg = self.config
        checks = [
            (cfg.num_envs >= 1, "num_envs must be >= 1"),
            (cfg.rollouts_per_image >= 1, "rollouts_per_image must be >= 1"),
            (cfg.num_envs % max(1, cfg.rollouts_per_image) == 0, "rollouts_per_image must divide num_envs"),
            (
                cfg.rollouts_per_image == 1 or self.action_key == "label",
                "rollouts_per_image > 1 needs a classification env (an image to look at M times)",
            ),
            (cfg.core in ("rnn", "lstm"), "core must be 'rnn' or 'lstm'"),
            (cfg.optimizer in ("adam", "sgd"), "optimizer must be 'adam' or 'sgd'"),
            (cfg.lr_schedule in ("constant", "linear", "cosine"), "lr_schedule must be constant, linear or cosine"),
            (cfg.learning_rate > 0, "learning_rate must be > 0"),
            (cfg.location_std > 0, "location_std must be > 0"),
            (0 <= cfg.min_lr_fraction <= 1, "min_lr_fraction must be in [0, 1]"),
            (cfg.max_grad_norm >= 0, "max_grad_norm must be >= 0"),
            (0 <= cfg.gamma <= 1 and 0 <= cfg.gae_lambda <= 1, "gamma and gae_lambda must be in [0, 1]"),
            (cfg.update_epochs >= 1, "update_epochs must be >= 1"),
            (cfg.clip_range > 0, "clip_range must be > 0"),
            (1 <= cfg.minibatches <= cfg.num_envs, "minibatches must be in [1, num_envs]"),
            (not (cfg.supervised and self.action_key != "label"), "supervised=True needs an env with a label action"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"bad RAM config: {message} (config: {dataclasses.asdict(cfg)})")

    # ------------------------------------------------------------------ training
    def _make_envs(self) -> gym.vector.VectorEnv:
        if self._envs is None:
            cfg = self.config
            repeats = {"rollouts_per_image": cfg.rollouts_per_image} if cfg.rollouts_per_image > 1 else {}
            self._envs = gym.make_vec(self.env_id, num_envs=cfg.num_envs, **cfg.env_kwargs, **repeats)
        return self._envs

    def collect(
        self,
        envs: gym.vector.VectorEnv,
        seed: int | None = None,
        deterministic: bool = False,
        keep_inputs: bool = False,
    ) -> Rollout:
        """Play one batch of complete episodes (one per env) and record what REINFORCE needs.

        ``keep_inputs`` also keeps the glimpses, their locations and the actions, so the
        episodes can be re-evaluated under new weights (:meth:`replay`).
        """
        supervised = bool(self.config.supervised)
        obs, info = envs.reset(seed=seed)
        n = envs.num_envs
        state = self.policy.initial_state(n)
        alive = torch.ones(n)
        rec: dict[str, list[torch.Tensor]] = {
            k: []
            for k in (
                "location_log_prob",
                "action_log_prob",
                "entropy",
                "baseline",
                "reward",
                "alive",
                "location_used",
                "locations",
            )
        }
        inputs: dict[str, list[torch.Tensor]] = {"glimpses": [], "observed_locations": [], "actions": []}
        critic, decoder = self.policy.state_critic, self.policy.state_decoder
        true_states: list[torch.Tensor] = []
        predictions: list[torch.Tensor] = []
        final_logits = torch.zeros(n, self.policy.n_actions)
        labels = torch.as_tensor(info["label"]) if supervised else None
        while True:
            if keep_inputs:
                inputs["glimpses"].append(torch.tensor(obs["glimpse"]))
                inputs["observed_locations"].append(torch.tensor(obs["location"]))
            out = self.policy(
                torch.as_tensor(obs["glimpse"]),
                torch.as_tensor(obs["location"]),
                state,
                deterministic=deterministic,
                sample_action=not supervised,
            )
            state = out.state
            baseline = out.baseline
            if critic is not None or decoder is not None:  # the true state the action was chosen in
                true_states.append(torch.as_tensor(info["state"], dtype=torch.float32))
            if critic is not None:
                baseline = critic(true_states[-1])
            if out.state_prediction is not None:
                predictions.append(out.state_prediction)
            if keep_inputs:
                inputs["actions"].append(out.action)
            action = {"location": out.location.numpy().astype(np.float32), self.action_key: out.action.numpy()}
            obs, reward, terminated, truncated, info = envs.step(action)
            done = torch.as_tensor(terminated | truncated)
            action_log_prob, entropy = _action_terms(out, supervised)
            rec["location_log_prob"].append(out.location_log_prob)
            rec["action_log_prob"].append(action_log_prob)
            rec["entropy"].append(entropy)
            rec["baseline"].append(baseline)
            rec["reward"].append(torch.as_tensor(reward, dtype=torch.float32))
            rec["alive"].append(alive)
            rec["location_used"].append(alive * (~done).float())  # the last step's location is never glimpsed
            rec["locations"].append(out.location)
            final = done & (alive > 0)
            final_logits = torch.where(final[:, None], out.action_logits, final_logits)
            alive = alive * (~done).float()
            if not alive.any():
                break
        stacked = {k: torch.stack(v) for k, v in rec.items()}
        if keep_inputs:
            stacked.update({k: torch.stack(v) for k, v in inputs.items()})
        if true_states:
            stacked["true_states"] = torch.stack(true_states)
        if predictions:
            stacked["state_predictions"] = torch.stack(predictions)
        return Rollout(final_logits=final_logits, labels=labels, **stacked)

    def replay(self, rollout: Rollout) -> Rollout:
        """Re-evaluate the stored episodes of ``rollout`` under the current weights.

        The same glimpses, fixations and actions are fed through the model step by step;
        the log-probabilities, entropies, baselines and final logits are recomputed (with
        gradients).  Needs a rollout collected with ``keep_inputs=True``.
        """
        if rollout.glimpses is None or rollout.observed_locations is None or rollout.actions is None:
            raise ValueError("replay needs a rollout collected with keep_inputs=True")
        needs_states = self.policy.state_critic is not None or self.policy.state_decoder is not None
        if needs_states and rollout.true_states is None:
            raise ValueError("replay with a state critic or decoder needs the rollout's true states (true_states)")
        supervised = bool(self.config.supervised)
        steps, n = rollout.alive.shape
        state = self.policy.initial_state(n)
        rec: dict[str, list[torch.Tensor]] = {
            "location_log_prob": [],
            "action_log_prob": [],
            "entropy": [],
            "baseline": [],
        }
        if self.policy.state_decoder is not None:
            rec["state_predictions"] = []
        final_logits = torch.zeros(n, self.policy.n_actions)
        critic = self.policy.state_critic
        for t in range(steps):
            out = self.policy(
                rollout.glimpses[t],
                rollout.observed_locations[t],
                state,
                fixation=rollout.locations[t],
                action=rollout.actions[t],
            )
            state = out.state
            action_log_prob, entropy = _action_terms(out, supervised)
            rec["location_log_prob"].append(out.location_log_prob)
            rec["action_log_prob"].append(action_log_prob)
            rec["entropy"].append(entropy)
            rec["baseline"].append(out.baseline if critic is None else critic(rollout.true_states[t]))
            if out.state_prediction is not None:
                rec["state_predictions"].append(out.state_prediction)
            following = rollout.alive[t + 1] if t + 1 < steps else torch.zeros(n)
            final = (rollout.alive[t] > 0) & (following == 0)
            final_logits = torch.where(final[:, None], out.action_logits, final_logits)
        stacked = {k: torch.stack(v) for k, v in rec.items()}
        return dataclasses.replace(rollout, final_logits=final_logits, **stacked)

    def _learning_rate(self) -> float:
        cfg = self.config
        progress = min(1.0, self.num_timesteps / max(1, self.total_timesteps))
        low = cfg.min_lr_fraction
        if cfg.lr_schedule == "linear":
            factor = 1 - (1 - low) * progress
        elif cfg.lr_schedule == "cosine":
            factor = low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))
        else:
            factor = 1.0
        return cfg.learning_rate * factor

    def train_step(self, envs: gym.vector.VectorEnv, seed: int | None = None) -> dict[str, float]:
        """One update: a batch of episodes, the hybrid loss, a gradient step. Returns metrics."""
        cfg = self.config
        lr = self._learning_rate()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if cfg.update_epochs > 1:
            return self._clipped_train_step(envs, seed, lr)
        rollout = self.collect(envs, seed=seed)
        loss, terms = hybrid_loss(
            rollout,
            bool(cfg.supervised),
            cfg.reinforce_weight,
            cfg.baseline_weight,
            cfg.entropy_coef,
            cfg.normalize_advantage,
            cfg.gamma,
            cfg.gae_lambda,
            cfg.state_loss_weight,
        )
        return self._metrics(rollout, lr, self._gradient_step(loss), terms)

    def _gradient_step(self, loss: torch.Tensor) -> float:
        """Back-propagate ``loss``, clip (``max_grad_norm > 0``), step; the gradient's norm."""
        max_norm = self.config.max_grad_norm
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(self.policy.parameters(), max_norm if max_norm > 0 else float("inf"))
        self.optimizer.step()
        return float(norm)

    def _clipped_train_step(self, envs: gym.vector.VectorEnv, seed: int | None, lr: float) -> dict[str, float]:
        """``update_epochs`` PPO-style passes over one batch of episodes."""
        cfg = self.config
        with torch.no_grad():
            rollout = self.collect(envs, seed=seed, keep_inputs=True)
            advantage, returns = advantages(rollout, cfg.gamma, cfg.gae_lambda)
            if cfg.normalize_advantage:
                advantage = _normalized(advantage, rollout.alive)
        n = rollout.alive.shape[1]
        grad_norms = []
        for _ in range(cfg.update_epochs):
            for index in torch.randperm(n).chunk(cfg.minibatches):
                old = rollout.episodes(index)
                loss, terms = clipped_loss(
                    self.replay(old),
                    old,
                    advantage[:, index],
                    returns[:, index],
                    bool(cfg.supervised),
                    cfg.clip_range,
                    cfg.reinforce_weight,
                    cfg.baseline_weight,
                    cfg.entropy_coef,
                    cfg.state_loss_weight,
                )
                grad_norms.append(self._gradient_step(loss))
        return self._metrics(rollout, lr, float(np.mean(grad_norms)), terms)

    def _metrics(self, rollout: Rollout, lr: float, grad_norm: float, terms: dict[str, float]) -> dict[str, float]:
        """Count the batch's steps and episodes; the update's metrics."""
        cfg = self.config
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
            "location_std": cfg.location_std,
            "location_abs_mean": rollout.locations.abs().mean().item(),
            "episode_length": steps / episodes,
            **terms,
        }
        if cfg.supervised:
            metrics["accuracy"] = (rollout.final_logits.argmax(-1) == rollout.labels).float().mean().item()
        return metrics

    def learn(
        self,
        total_timesteps: int,
        callback: Callable[[dict[str, float]], bool | None] | None = None,
        reset_num_timesteps: bool = True,
    ) -> RAM:
        """Train until ``total_timesteps`` env steps (every env counts) have been taken.

        Args:
            total_timesteps: training budget in env steps (an episode of RAM-MNIST-v0 is 6).
            callback: called with each update's metrics; returning ``False`` stops training.
            reset_num_timesteps: ``False`` continues counting (and the schedule) from a
                loaded or interrupted agent.
        """
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
        while self.num_timesteps < self.total_timesteps:
            metrics = self.train_step(envs, seed=seed)
            seed = None
            if callback is not None and callback(metrics) is False:
                break
        return self

    def _rng_state(self) -> dict[str, Any]:
        """torch's and the training environments' generator states (for exact resume)."""
        state: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self._envs is not None:
            state["envs"] = [g.bit_generator.state for g in self._envs.unwrapped.task.rngs]
        return state

    def _set_rng_state(self, state: dict[str, Any]) -> None:
        torch.set_rng_state(state["torch"])
        if "envs" in state:
            rngs = self._make_envs().unwrapped.task.rngs
            if len(state["envs"]) != len(rngs):
                raise CheckpointError(f"checkpoint has {len(state['envs'])} env generators, this run {len(rngs)}")
            for g, s in zip(rngs, state["envs"], strict=True):
                g.bit_generator.state = s

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
            observation: ``{"glimpse": (k, g, g) or (N, k, g, g), "location": (2,) or (N, 2)}``.
            state: the recurrent state returned by the previous call (``None``: start).
            episode_start: bool ``(N,)``: reset the state of these episodes first.
            deterministic: fixation = policy mean and action = argmax (test time);
                ``False`` samples both (the label is argmax in classification either way).

        Returns:
            ``(action, state)``: ``{"location": float32 (2,) or (N, 2), <key>: int or
            int64 (N,)}`` and the new state (tuple of float32 ``(N, hidden)`` arrays).
        """
        glimpse, location, single = self._check_observation(observation)
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
            torch_state = tuple(torch.as_tensor(np.asarray(s, dtype=np.float32)) for s in state)
        if episode_start is not None:
            start = np.asarray(episode_start, dtype=bool).reshape(-1)
            if start.shape != (n,):
                raise ValueError(f"episode_start must have shape ({n},), got {np.shape(episode_start)}")
            keep = torch.as_tensor(~start, dtype=torch.float32)[:, None]
            torch_state = tuple(s * keep for s in torch_state)
        with torch.no_grad():
            out = self.policy(
                torch.as_tensor(glimpse),
                torch.as_tensor(location),
                torch_state,
                deterministic=deterministic,
                sample_action=not self.config.supervised,
            )
        loc = np.clip(out.location.numpy(), -1.0, 1.0).astype(np.float32)  # as the env clips it
        act = out.action.numpy().astype(np.int64)
        new_state = tuple(s.numpy() for s in out.state)
        if single:
            return {"location": loc[0], self.action_key: int(act[0])}, new_state
        return {"location": loc, self.action_key: act}, new_state

    def _check_observation(self, observation: Any) -> tuple[np.ndarray, np.ndarray, bool]:
        shape = self.observation_space["glimpse"].shape
        if not isinstance(observation, dict) or "glimpse" not in observation or "location" not in observation:
            raise ValueError(f"observation must be a dict with 'glimpse' and 'location', got {type(observation)}")
        glimpse = np.asarray(observation["glimpse"], dtype=np.float32)
        location = np.asarray(observation["location"], dtype=np.float32)
        single = glimpse.shape == shape
        if single:
            glimpse, location = glimpse[None], location[None]
        if glimpse.shape[1:] != shape or location.shape != (glimpse.shape[0], 2):
            raise ValueError(
                f"observation glimpse must be {shape} or (N, *{shape}) with location (2,) or (N, 2); got "
                f"glimpse {np.shape(observation['glimpse'])}, location {np.shape(observation['location'])} "
                f"(this agent was trained on {self.env_id})"
            )
        if not (np.all(np.isfinite(glimpse)) and np.all(np.isfinite(location))):
            raise ValueError("observation contains NaN or inf")
        return glimpse, location, single

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike, extra: dict[str, Any] | None = None, weights_only: bool = False) -> Path:
        """Write weights, optimizer, config, progress and RNG states to ``path`` (atomically).

        ``weights_only=True`` leaves out the optimizer and RNG states (a smaller file for
        sharing: it predicts and evaluates identically, but cannot resume exactly).
        """
        payload = {
            "algo": self.algo,
            "env_id": self.env_id,
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
                "glimpse": list(self.observation_space["glimpse"].shape),
                "n_actions": int(self.action_space[self.action_key].n),
                "action_key": self.action_key,
            },
            "extra": plain(extra or {}, "extra"),
            "rng": self._rng_state(),
        }
        if weights_only:
            del payload["optimizer"], payload["rng"]
        return save_checkpoint(path, payload)

    @classmethod
    def load_pretrained(cls, env_id: str) -> RAM:
        """The checkpoint shipped with ram-gym for ``env_id`` (see ``agents.pretrained.available()``)."""
        from agents.pretrained import pretrained_path

        return cls.load(pretrained_path(env_id), env_id=env_id)

    @classmethod
    def load(cls, path: str | os.PathLike, env_id: str | None = None, device: str = "cpu") -> RAM:
        """Load a checkpoint written by :meth:`save` (``env_id``: require this environment)."""
        data = load_checkpoint(path, algo=cls.algo, env_id=env_id)
        config = dict(data["config"])
        try:
            agent = cls(data["env_id"], seed=data.get("seed"), device=device, **config)
        except ValueError as err:
            raise CheckpointError(f"{path}: its config no longer makes an agent: {err}") from err
        restore_weights(data, path, agent.policy, agent.optimizer)
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
