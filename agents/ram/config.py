"""The RAM's hyper-parameters: :class:`RAMConfig`, every field a ``RAM(...)`` keyword, and
all of their checks (types, ranges, and what the environment must offer)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import Track

__all__ = [
    "RAMConfig",
    "check_config",
    "typed_hparams",
    "true_state_size",
    "track_of",
    "catch_warning",
    "REMOVED_FIELDS",
]

MAX_NUM_ENVS = 65_536  #: episodes per update, at most
MAX_WIDTH = 16_384  #: units of a layer, at most (a 16k x 16k layer is already 1 GiB of weights)

#: fields of older checkpoints that no longer exist, with the only value they may hold
#: (the PPO-style clipped updates were removed: RESULTS.md records that they did not learn)
REMOVED_FIELDS: dict[str, Any] = {"update_epochs": 1, "clip_range": 0.2, "minibatches": 1}


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
    lr_warmup_steps: int = 0
    """Raise the learning rate linearly from ~0 over the first this many env steps (0: none).
    For fine-tuning (``ram train --init-from``): a fresh Adam's first updates move every weight
    by about the learning rate whatever its gradient, which undid a converged model
    (RAM-TranslatedMNIST-v0: 0.6% -> 1.8% error on 500 test images in 20 updates at 4e-4)."""
    weight_average: float = 0.0
    """Decay of an exponential moving average of the network's weights (Polyak averaging),
    updated after every gradient step; 0: off.  With it on, checkpoints carry the average
    beside the weights, a finished run also writes ``model_averaged.pt`` (the same agent with
    the averaged weights) and ``ram eval --averaged`` scores a checkpoint's average.  The
    decay ramps up as ``min(decay, (1 + n) / (10 + n))`` over the first updates ``n``, so the
    average does not remember the random initialisation.  0.9995 averages over about the last
    2,000 updates."""
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
    """What ``b_t`` is.  ``"baseline"``: the paper's ``Linear(h_t)``.  ``"leave_one_out"``:
    with ``rollouts_per_image = M >= 2``, each episode's return is compared with the mean return
    of the other ``M - 1`` episodes on the same image (a VIMCO-style multi-sample baseline:
    unbiased, and it needs no learning; the ``Linear(h_t)`` baseline is still fitted, as a
    diagnostic).  ``"self_critical"``: with ``rollouts_per_image = M >= 2``, the first episode of
    each image looks where the location means say (greedy) and its return is the baseline of the
    other ``M - 1`` (self-critical training, as PatchDrop does); the greedy episode is not learnt from.  ``"state"``: an
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
    glimpse_prediction_weight: float = 0.0
    """Weight of an auxiliary loss (not in the paper) that reads observations only, so it is
    allowed on the rl track: a :class:`~agents.ram.model.GlimpsePredictor` predicts the next
    glimpse from ``h_t`` and the fixation just chosen, scored by its squared error summed over
    the glimpse's pixels.  It gives the core a dense signal about what it looks at (in Catch:
    where the ball and the paddle are and how they move) where the reward comes once per
    episode.  0 disables it."""
    location_reward: str = "paper"
    """What the location policy's REINFORCE term is paid (classification with the hybrid loss).
    ``"paper"``: the environment's reward, 1 for a right label, else 0.
    ``"log_likelihood"``: the final log-probability of the true label, ``log p_T(y)``.
    ``"dense"``: the gain in that log-probability each glimpse brings,
    ``r_t = log p_{t+1}(y) - log p_t(y)`` (the action network read out at every step), which
    sums to ``log p_T(y) - log p_1(y)``: the same total as ``"log_likelihood"``, but each fixation
    is credited with what its glimpse added.  Both read ``info["label"]`` (as the hybrid loss
    does); log-probabilities are floored at ``log(1e-3)`` so one hopeless image cannot dominate."""
    warm_start_steps: int = 0
    """Env steps of a warm start before the paper's training (0: none).  During it every
    fixation is drawn uniformly over the image instead of from the location network, which
    gets no policy gradient, so the glimpse, core and action networks learn from the
    cross-entropy on random views; the location policy then starts from a classifier whose
    reward is informative.  Counted in the run's env steps and time."""
    supervised: bool | None = None
    """Hybrid loss with ``info["label"]``; ``None``: on for classification envs (action ``label``)."""
    glimpse_network: str = "fc"
    """The glimpse network's "what" pathway: ``"fc"`` (the paper's ``Linear(rho)``) or
    ``"conv"`` (two 3x3 convolutions over the ``k`` scales as channels, then a linear layer to
    ``glimpse_hidden``): it shares weights across the patch, so it learns strokes from fewer
    episodes, at about twice the compute per glimpse."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keywords for ``gym.make_vec(env_id, ...)`` (e.g. ``{"n_glimpses": 4}``)."""

    def model_options(
        self, state_size: int = 0, stop_policy: bool = False, zoom_policy: bool = False
    ) -> dict[str, Any]:
        """Keywords of :class:`~agents.ram.model.RecurrentAttentionModel` (``state_size``: ``d``
        of the env's true state, for the critic and the decoder when they are on)."""
        return {
            "core": self.core,
            "hidden_size": self.hidden_size,
            "glimpse_hidden": self.glimpse_hidden,
            "glimpse_out": self.glimpse_out,
            "location_std": self.location_std,
            "location_grad_to_core": self.location_grad_to_core,
            "location_mean": self.location_mean,
            "glimpse_network": self.glimpse_network,
            "baseline_grad_to_core": self.baseline_grad_to_core,
            "critic_state_size": state_size if self.critic == "state" else 0,
            "decoder_state_size": state_size if self.state_loss_weight > 0 else 0,
            "stop_policy": stop_policy,
            "zoom_policy": zoom_policy,
            "glimpse_predictor": self.glimpse_prediction_weight > 0,
        }

    def loss_options(self) -> dict[str, Any]:
        """Keywords of :func:`~agents.ram.losses.hybrid_loss` (all but the rollout and ``supervised``)."""
        names: tuple[str, ...] = ("reinforce_weight", "baseline_weight", "entropy_coef", "normalize_advantage")
        names += ("gamma", "gae_lambda", "state_loss_weight", "glimpse_prediction_weight", "location_reward")
        return {
            **{name: getattr(self, name) for name in names},
            "leave_one_out": self.rollouts_per_image if self.critic == "leave_one_out" else 0,
            "self_critical": self.rollouts_per_image if self.critic == "self_critical" else 0,
        }

    def learning_rate_at(self, progress: float, steps: int | None = None) -> float:
        """The scheduled learning rate at ``progress`` in ``[0, 1]`` of the training budget,
        ``steps`` env steps into the run (for the warm-up; ``None``: after it)."""
        progress, low = min(1.0, progress), self.min_lr_fraction
        warmup = 1.0 if steps is None or self.lr_warmup_steps <= 0 else min(1.0, (steps + 1) / self.lr_warmup_steps)
        if self.lr_schedule == "linear":
            factor = 1 - (1 - low) * progress
        elif self.lr_schedule == "cosine":
            factor = low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))
        else:
            factor = 1.0
        return self.learning_rate * factor * warmup


#: the fields whose default ``None`` means "chosen by the task", and the type they take otherwise
_BY_TASK: dict[str, type] = {"core": str, "supervised": bool}


def typed_hparams(hparams: dict[str, Any]) -> dict[str, Any]:
    """Check each hyper-parameter against its :class:`RAMConfig` default's type.

    Numbers written as strings (PyYAML reads ``3e-4`` as a string) are converted;
    anything else of the wrong type raises ``ValueError`` naming the field.
    """
    known = {f.name for f in dataclasses.fields(RAMConfig)}
    unknown = sorted(set(hparams) - known)
    if unknown:
        raise ValueError(f"unknown RAM hyper-parameter(s) {unknown}; known: {sorted(known)}")
    defaults = RAMConfig()
    out = dict(hparams)
    for name, value in hparams.items():
        default = getattr(defaults, name)
        if default is None:  # core, supervised: None means "by task"
            kind = _BY_TASK[name]
            if value is not None and (not isinstance(value, kind) or (kind is str and isinstance(value, bool))):
                raise ValueError(f"RAM hyper-parameter {name} must be {kind.__name__} or None (by task), got {value!r}")
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
        if kind is float and not math.isfinite(value):
            raise ValueError(f"RAM hyper-parameter {name} must be a finite number, got {value!r}")
        out[name] = float(value) if kind is float else value
    return out


def check_config(cfg: RAMConfig, action_key: str) -> None:
    """Raise ``ValueError`` naming the first invalid field of ``cfg`` (resolved for an env
    whose discrete action is ``action_key``)."""
    checks = [
        (1 <= cfg.num_envs <= MAX_NUM_ENVS, f"num_envs must be in [1, {MAX_NUM_ENVS}]"),
        (
            all(1 <= n <= MAX_WIDTH for n in (cfg.hidden_size, cfg.glimpse_hidden, cfg.glimpse_out)),
            f"hidden_size, glimpse_hidden and glimpse_out must be in [1, {MAX_WIDTH}]",
        ),
        (cfg.rollouts_per_image >= 1, "rollouts_per_image must be >= 1"),
        (cfg.num_envs % max(1, cfg.rollouts_per_image) == 0, "rollouts_per_image must divide num_envs"),
        (
            cfg.rollouts_per_image == 1 or action_key == "label",
            "rollouts_per_image > 1 needs a classification env (an image to look at M times)",
        ),
        (cfg.core in ("rnn", "lstm"), "core must be 'rnn' or 'lstm'"),
        (cfg.optimizer in ("adam", "sgd"), "optimizer must be 'adam' or 'sgd'"),
        (cfg.lr_schedule in ("constant", "linear", "cosine"), "lr_schedule must be constant, linear or cosine"),
        (cfg.learning_rate > 0, "learning_rate must be > 0"),
        (cfg.location_std > 0, "location_std must be > 0"),
        (0 <= cfg.min_lr_fraction <= 1, "min_lr_fraction must be in [0, 1]"),
        (cfg.lr_warmup_steps >= 0, "lr_warmup_steps must be >= 0"),
        (cfg.max_grad_norm >= 0, "max_grad_norm must be >= 0"),
        (0 <= cfg.weight_average < 1, f"weight_average must be in [0, 1), got {cfg.weight_average}"),
        (0 <= cfg.gamma <= 1 and 0 <= cfg.gae_lambda <= 1, "gamma and gae_lambda must be in [0, 1]"),
        (
            cfg.critic in ("baseline", "state", "leave_one_out", "self_critical"),
            f"critic must be 'baseline', 'state', 'leave_one_out' or 'self_critical', got {cfg.critic!r}",
        ),
        (
            cfg.critic not in ("leave_one_out", "self_critical") or cfg.rollouts_per_image >= 2,
            f"critic={cfg.critic!r} compares the rollouts of one image: it needs rollouts_per_image >= 2",
        ),
        (
            cfg.location_reward in ("paper", "log_likelihood", "dense"),
            f"location_reward must be 'paper', 'log_likelihood' or 'dense', got {cfg.location_reward!r}",
        ),
        (
            cfg.location_reward == "paper" or (cfg.supervised is not False and action_key == "label"),
            "location_reward other than 'paper' reads the true label: it needs the hybrid loss (supervised)",
        ),
        (cfg.warm_start_steps >= 0, f"warm_start_steps must be >= 0, got {cfg.warm_start_steps}"),
        (
            cfg.warm_start_steps == 0 or action_key == "label",
            "warm_start_steps trains the classifier on random fixations: it needs a classification env",
        ),
        (
            cfg.glimpse_network in ("fc", "conv"),
            f"glimpse_network must be 'fc' or 'conv', got {cfg.glimpse_network!r}",
        ),
        (cfg.state_loss_weight >= 0, f"state_loss_weight must be >= 0, got {cfg.state_loss_weight}"),
        (
            cfg.glimpse_prediction_weight >= 0,
            f"glimpse_prediction_weight must be >= 0, got {cfg.glimpse_prediction_weight}",
        ),
        (not (cfg.supervised and action_key != "label"), "supervised=True needs an env with a label action"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"bad RAM config: {message} (config: {dataclasses.asdict(cfg)})")


def track_of(config: dict[str, Any]) -> Track:
    """``"privileged"`` when a RAM config's training reads ``info["label"]`` (the hybrid loss) or
    ``info["state"]`` (the true-state critic or decoder); ``"rl"`` for the reward alone."""
    reads = config.get("supervised") or config.get("critic") == "state" or config.get("state_loss_weight", 0) > 0
    return "privileged" if reads else "rl"


def true_state_size(cfg: RAMConfig, env_id: str, probe: gym.Env) -> int:
    """``d`` of the env's ``info["state"]`` when ``critic="state"`` or ``state_loss_weight > 0``
    need it (``ValueError`` if the env has none); 0 when neither is on."""
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
            f"info['state'] (RAM-Catch-v0 does); {env_id} gives info keys {sorted(info)}"
        )
    return int(state.size)


def catch_warning(env_id: str) -> str:
    """What to tell a user who trains the paper's plain REINFORCE on Catch: the shipped
    recipes of both tracks, read from the recipes themselves."""
    from agents.ram.recipes import load_recipe

    def changes(name: str) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in load_recipe(name).items() if k not in ("num_envs", "core"))

    return (
        f"{env_id}: the paper's plain REINFORCE stayed at chance on Catch in every budget we tried "
        f"(up to 5M env steps). From the reward alone, --config ram_catch_rl adds {changes('ram_catch_rl')}; "
        f"reading the true state in training (privileged track), --config ram_catch adds {changes('ram_catch')}"
    )
