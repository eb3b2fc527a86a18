"""Playing a batch of episodes: what REINFORCE needs from each step, recorded time-major.

:func:`collect` plays one complete episode in every slot of a native vector environment
(``T`` steps x ``B`` episodes) with the model of :mod:`agents.ram.model` and returns a
:class:`Rollout`.  One :class:`StepRecorder` appends each step's tensors and stacks
them at the end, so every field has the same ``(T, B)`` layout.

The optional *true-state block* (Catch's recipe, not in the paper) lives in
:class:`TrueStateBlock`: when the model has a state critic or a state decoder, the
environment's ``info["state"]`` before each move is read (training only), the critic's
value of it replaces the baseline ``b_t``, and the decoder's prediction of it is kept for
its auxiliary loss.  The policy acts on glimpses alone either way.
"""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor
from torch.distributions import Categorical

import ram_env
from agents.ram.model import RecurrentAttentionModel, StepOutput

__all__ = [
    "Rollout",
    "StepRecorder",
    "TrueStateBlock",
    "ResetAhead",
    "collect",
    "check_observation",
    "where_of",
    "glimpse_action",
]


@dataclass
class Rollout:
    """A batch of complete episodes, time-major (``T`` steps x ``B`` episodes)."""

    location_log_prob: Tensor  #: (T, B) log pi(l_t | h_t)
    action_log_prob: Tensor  #: (T, B) log pi(a_t), zeros when the action is not a policy
    entropy: Tensor  #: (T, B) of the discrete action's distribution
    baseline: Tensor  #: (T, B) b_t
    reward: Tensor  #: (T, B)
    alive: Tensor  #: (T, B) 1 where the step belongs to the episode
    location_used: Tensor  #: (T, B) 1 where the sampled location was glimpsed (not the last step)
    final_logits: Tensor  #: (B, n_actions) at each episode's last step
    labels: Tensor | None  #: (B,) true labels (classification)
    locations: Tensor  #: (T, B, 2) sampled fixations ((T, B, 3) with the zoom after them)
    true_states: Tensor | None = None  #: (T, B, d) info["state"] before each step (true-state block)
    state_predictions: Tensor | None = None  #: (T, B, d) the state decoder's output
    stop_log_prob: Tensor | None = None  #: (T, B) log pi(stop_t), when the env lets the agent stop
    label_log_prob: Tensor | None = None  #: (T, B) log p_t(y) of the true label after each glimpse (supervised)
    glimpse_predictions: Tensor | None = None  #: (T, B, k*g*g) the glimpse predictor's guess of the next glimpse
    next_glimpses: Tensor | None = None  #: (T, B, k*g*g) the glimpse the env returned after step t


class StepRecorder:
    """Appends one ``(B, ...)`` tensor per name and step; :meth:`stacked` gives ``(T, B, ...)``."""

    def __init__(self) -> None:
        self.steps: dict[str, list[Tensor]] = {}

    def record(self, **tensors: Tensor | None) -> None:
        for name, value in tensors.items():
            if value is not None:
                self.steps.setdefault(name, []).append(value)

    def stacked(self) -> dict[str, Tensor]:
        return {name: torch.stack(values) for name, values in self.steps.items()}


class TrueStateBlock:
    """Training-time use of the environment's true state ``info["state"]`` (Catch).

    Active when the model has a :class:`~agents.ram.model.StateCritic` (``critic="state"``:
    ``b_t`` is the critic's value of the true state) or a
    :class:`~agents.ram.model.StateDecoder` (``state_loss_weight > 0``).  Inactive, it
    reads nothing and ``b_t`` is the paper's baseline on ``h_t``.
    """

    def __init__(self, policy: RecurrentAttentionModel) -> None:
        self.critic = policy.state_critic
        self.active = policy.state_critic is not None or policy.state_decoder is not None

    def read(self, info: dict[str, Any], device: torch.device) -> Tensor | None:
        """The true states ``(B, d)`` the coming moves are chosen in, or ``None`` when inactive."""
        if not self.active:
            return None
        return torch.as_tensor(info["state"], dtype=torch.float32, device=device)

    def baseline(self, out: StepOutput, true_state: Tensor | None) -> Tensor:
        """``b_t`` ``(B,)``: the critic's value of the true state, else the model's baseline."""
        if self.critic is not None:
            assert true_state is not None
            return self.critic(true_state)
        assert out.baseline is not None
        return out.baseline


class _Snapshot:
    """The env generators' states as a background reset found them (``states``), and an
    event set once they were copied (or the copy failed)."""

    def __init__(self) -> None:
        self.states: list[dict[str, Any]] | None = None
        self.taken = threading.Event()


class ResetAhead:
    """The next batch's ``envs.reset()``, run in a background thread during this update.

    A training update resets its vector env (new images, canvases, summed-area tables:
    about a seventh of a batch-128 update on RAM-ClutteredMNIST-v0) and then, once its
    episodes are played, runs the backward pass and the optimizer step, which never touch
    the env.  :meth:`start` begins the next reset then, on a second core; :meth:`take`
    hands its ``(obs, info)`` to the next :func:`collect`.  Training is unchanged: the
    reset is the one the next update would have made (same generators, same order), and
    :meth:`rng_state` reports the env generators as they were *before* it, so a checkpoint
    written with a reset in flight resumes exactly.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: tuple[gym.vector.VectorEnv, Future, _Snapshot] | None = None

    def start(self, envs: gym.vector.VectorEnv) -> None:
        """Begin ``envs.reset()`` (unseeded: the generators continue) in the background.

        The background thread first copies the env generators' states (for
        :meth:`rng_state`), then resets: neither costs the training thread anything."""
        self.wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ram-reset")
        snapshot = _Snapshot()

        def reset() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
            try:
                snapshot.states = ram_env.get_rng_state(envs)
            finally:
                snapshot.taken.set()  # even on an error: rng_state() must not wait forever
            return envs.reset()

        self._pending = (envs, self._pool.submit(reset), snapshot)

    def take(self, envs: gym.vector.VectorEnv, seed: int | None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """``envs.reset(seed=seed)``: the reset begun by :meth:`start` when it was of these
        envs and no seed is asked for (a seeded reset discards it: seeding restarts every
        generator, so nothing it drew matters).  A reset in flight on other envs stays."""
        if self._pending is not None and self._pending[0] is envs:
            _, future, _ = self._pending
            self._pending = None
            result = future.result()  # also re-raises an error of the reset itself
            if seed is None:
                return result
        return envs.reset(seed=seed)

    def rng_state(self, envs: gym.vector.VectorEnv) -> list[dict[str, Any]] | None:
        """The generator states of ``envs`` before a reset in flight (``None``: none is)."""
        if self._pending is not None and self._pending[0] is envs:
            _, future, snapshot = self._pending
            snapshot.taken.wait()
            if snapshot.states is None:
                future.result()  # the copy failed: re-raise its error here
            return snapshot.states
        return None

    def wait(self) -> None:
        """Let a reset in flight finish (its result is kept for :meth:`take`)."""
        if self._pending is not None:
            self._pending[1].exception()

    def cancel(self) -> None:
        """Finish and drop a reset in flight (the envs' generators are about to be replaced)."""
        self.wait()
        self._pending = None


def where_of(obs: dict[str, np.ndarray]) -> np.ndarray:
    """The "where" the glimpse network reads: ``location`` ``(B, 2)``, with the glimpse's
    ``zoom`` ``(B, 1)`` after it when the env lets the agent choose the scale: ``(B, 3)``."""
    location = np.asarray(obs["location"], dtype=np.float32)
    if "zoom" not in obs:
        return location
    return np.concatenate([location, np.asarray(obs["zoom"], dtype=np.float32)], axis=-1)


def glimpse_action(out: StepOutput, action_key: str, clip: bool = False) -> dict[str, np.ndarray]:
    """The env's batched action from a model step: ``location`` float32 ``(B, 2)``, the choice
    ``(B,)``, and ``stop`` ``(B,)`` / ``zoom`` ``(B, 1)`` when the model has them (``clip``:
    locations and zooms clipped to ``[-1, 1]``, as the env clips them)."""
    where = out.location.cpu().numpy().astype(np.float32)
    if clip:
        where = np.clip(where, -1.0, 1.0)
    action: dict[str, np.ndarray] = {"location": where[:, :2], action_key: out.action.cpu().numpy().astype(np.int64)}
    if out.stop is not None:
        action["stop"] = out.stop.cpu().numpy().astype(np.int64)
    if where.shape[1] == 3:
        action["zoom"] = where[:, 2:]
    return action


def action_terms(out: StepOutput, supervised: bool) -> tuple[Tensor, Tensor]:
    """``(log pi(a_t), entropy)``, each ``(B,)``, of the step's discrete action; zeros when the
    action is not a policy (classification: the label is trained by cross-entropy)."""
    if supervised:
        zeros = torch.zeros(out.action.shape[0], device=out.action.device)
        return zeros, zeros
    dist = Categorical(logits=out.action_logits)
    return dist.log_prob(out.action), dist.entropy()


def collect(
    policy: RecurrentAttentionModel,
    envs: gym.vector.VectorEnv,
    action_key: str,
    supervised: bool,
    seed: int | None = None,
    deterministic: bool = False,
    reset_ahead: ResetAhead | None = None,
    uniform_fixations: bool = False,
    greedy_group: int = 0,
) -> Rollout:
    """Play one batch of complete episodes (one per env) and record what REINFORCE needs.

    Args:
        policy: the model; its device is where every recorded tensor lives.
        envs: a native vector env of ``B`` glimpse episodes (reset here).
        action_key: the env's discrete action (``"label"`` or ``"move"``).
        supervised: the label is trained by cross-entropy (not sampled as a policy).
        seed: seeds the envs' reset (``None``: continue their generators).
        deterministic: fixations = policy means, actions = argmax.
        reset_ahead: where a reset of ``envs`` may already be under way (see :class:`ResetAhead`).
        uniform_fixations: look at fixations drawn uniformly over ``[-1, 1]`` instead of the
            location network's (a warm start); their log-probabilities are recorded as 0, so
            the location network gets no policy gradient.
        greedy_group: ``M >= 2``: the first episode of each group of ``M`` consecutive slots (one
            image, ``rollouts_per_image``) looks where the location network's means say (greedy,
            log-probability 0): the self-critical baseline of the other ``M - 1``.
    """
    device = next(policy.parameters()).device
    obs, info = reset_ahead.take(envs, seed) if reset_ahead is not None else envs.reset(seed=seed)
    n = envs.num_envs
    state = policy.initial_state(n)
    alive = torch.ones(n, device=device)
    true_state_block = TrueStateBlock(policy)
    steps = StepRecorder()
    final_logits = torch.zeros(n, policy.n_actions, device=device)
    labels = torch.as_tensor(info["label"], device=device) if supervised else None
    while True:
        out = policy(
            torch.as_tensor(obs["glimpse"], device=device),
            torch.as_tensor(where_of(obs), device=device),
            state,
            deterministic=deterministic,
            sample_action=not supervised,
        )
        state = out.state
        if uniform_fixations:
            out = random_fixations(out)
        elif greedy_group:
            out = greedy_leaders(out, greedy_group)
        true_state = true_state_block.read(info, device)
        baseline = true_state_block.baseline(out, true_state)
        predicted = predicted_glimpse(policy, out, deterministic)
        action = glimpse_action(out, action_key)
        obs, reward, terminated, truncated, info = envs.step(action)
        done = torch.as_tensor(terminated | truncated, device=device)
        action_log_prob, entropy = action_terms(out, supervised)
        steps.record(
            location_log_prob=out.location_log_prob,
            action_log_prob=action_log_prob,
            entropy=entropy,
            baseline=baseline,
            reward=torch.as_tensor(reward, dtype=torch.float32, device=device),
            alive=alive,
            location_used=alive * (~done).float(),  # the last step's location is never glimpsed
            locations=out.location,
            true_states=true_state,
            state_predictions=out.state_prediction,
            stop_log_prob=out.stop_log_prob,
            label_log_prob=None if labels is None else label_log_prob(out.action_logits, labels),
            glimpse_predictions=predicted,
            next_glimpses=None if predicted is None else torch.as_tensor(obs["glimpse"], device=device).flatten(1),
        )
        final = done & (alive > 0)
        final_logits = torch.where(final[:, None], out.action_logits, final_logits)
        alive = alive * (~done).float()
        if not alive.any():
            break
    return Rollout(final_logits=final_logits, labels=labels, **steps.stacked())


def random_fixations(out: StepOutput) -> StepOutput:
    """``out`` with its next fixation (and zoom) drawn uniformly over ``[-1, 1]`` by torch's
    generator, and a log-probability of 0 (no policy gradient)."""
    location = torch.rand_like(out.location) * 2 - 1
    return dataclasses.replace(out, location=location, location_log_prob=torch.zeros_like(out.location_log_prob))


def greedy_leaders(out: StepOutput, group: int) -> StepOutput:
    """``out`` with the first slot of each group of ``group`` fixating at the policy's mean, with a
    log-probability of 0 (its episode is the baseline, not a sample to learn from)."""
    leader = torch.zeros(out.location.shape[0], dtype=torch.bool, device=out.location.device)
    leader[::group] = True
    location = torch.where(leader[:, None], out.location_mean.detach(), out.location)
    log_prob = torch.where(leader, torch.zeros_like(out.location_log_prob), out.location_log_prob)
    return dataclasses.replace(out, location=location, location_log_prob=log_prob)


def predicted_glimpse(policy: RecurrentAttentionModel, out: StepOutput, deterministic: bool) -> Tensor | None:
    """The glimpse predictor's guess ``(B, k*g*g)`` of the glimpse at the step's (final) fixation,
    when the model has one and is training (``None`` otherwise)."""
    if policy.glimpse_predictor is None or deterministic:
        return None
    assert out.hidden is not None
    return policy.glimpse_predictor(out.hidden, out.location.detach())


def label_log_prob(logits: Tensor, labels: Tensor) -> Tensor:
    """``log p(y)`` ``(B,)`` of the true ``labels`` under ``softmax(logits)``, without gradient."""
    return torch.log_softmax(logits.detach(), -1).gather(1, labels[:, None]).squeeze(1)


def check_observation(
    observation: Any, shape: tuple[int, ...], env_id: str, zoom: bool = False
) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(glimpse (N, k, g, g), where (N, 2) or (N, 3), single)`` float32 from one observation
    or a batch (``zoom``: the agent chooses the scale, so the observation carries ``zoom``,
    appended to the location as :func:`where_of` does); ``ValueError`` naming what does not
    fit what the agent was trained on."""
    keys = ("glimpse", "location", "zoom") if zoom else ("glimpse", "location")
    if not isinstance(observation, dict) or any(k not in observation for k in keys):
        raise ValueError(f"observation must be a dict with {', '.join(map(repr, keys))}, got {type(observation)}")
    glimpse = np.asarray(observation["glimpse"], dtype=np.float32)
    location = np.asarray(observation["location"], dtype=np.float32)
    zooms = np.asarray(observation["zoom"], dtype=np.float32) if zoom else None
    single = glimpse.shape == shape
    if single:
        glimpse, location = glimpse[None], location[None]
        zooms = None if zooms is None else zooms[None]
    n = glimpse.shape[0]
    if glimpse.shape[1:] != shape or location.shape != (n, 2) or (zooms is not None and zooms.shape != (n, 1)):
        got = f"glimpse {np.shape(observation['glimpse'])}, location {np.shape(observation['location'])}"
        if zoom:
            got += f", zoom {np.shape(observation['zoom'])}"
        raise ValueError(
            f"observation glimpse must be {shape} or (N, *{shape}) with location (2,) or (N, 2)"
            f"{' and zoom (1,) or (N, 1)' if zoom else ''}; got {got} (this agent was trained on {env_id})"
        )
    where = location if zooms is None else np.concatenate([location, zooms], axis=1)
    if not (np.all(np.isfinite(glimpse)) and np.all(np.isfinite(where))):
        raise ValueError("observation contains NaN or inf")
    return glimpse, where, single
