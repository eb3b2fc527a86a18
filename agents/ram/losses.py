"""The paper's hybrid loss (Mnih et al. 2014, section 3), one named function per term.

For a batch of ``B`` episodes of ``T`` steps (a :class:`~agents.ram.rollout.Rollout`):

* :func:`location_rewards`: what the location policy is paid (the paper's 0/1 reward, or the
  true label's log-likelihood, final or per glimpse),
* :func:`advantages`: ``R_t - b_t`` (or generalised advantage estimation), or
  :func:`leave_one_out_advantage`'s comparison with the other rollouts of the same image, or
  :func:`self_critical_advantage`'s with the image's greedy rollout,
* :func:`reinforce`: the policy-gradient term ``-sum_t log pi(a_t) (R_t - b_t)``, per episode,
* the cross-entropy of the last step's action logits against the true labels,
* the baseline's mean squared error against the returns,
* optionally an entropy bonus, the true-state decoder's MSE (Catch's privileged recipe) and
  :func:`glimpse_prediction_error` (observations only: allowed on the rl track).

:func:`hybrid_loss` adds them up, one line per term.
"""

from __future__ import annotations

import torch
from torch import Tensor

from agents.ram.rollout import Rollout

__all__ = [
    "location_rewards",
    "advantages",
    "leave_one_out_advantage",
    "self_critical_advantage",
    "reinforce",
    "glimpse_prediction_error",
    "hybrid_loss",
]

#: floor of the log-likelihood rewards: log(1e-3)
LOG_LIKELIHOOD_FLOOR = -6.907755278982137


def location_rewards(rollout: Rollout, kind: str = "paper") -> Tensor:
    """The rewards ``(T, B)`` the policy gradient uses.

    ``"paper"``: the environment's (1 for a right label at the end, else 0).  With the
    true label's log-probability after each glimpse ``lp_t = log p_t(y)`` (floored at
    ``log 1e-3``): ``"log_likelihood"`` pays ``lp`` at each episode's last step;
    ``"dense"`` pays ``lp_{t+1} - lp_t`` at step ``t`` (what the glimpse at the fixation
    chosen at ``t`` added), so the return from step ``t`` is ``lp_T - lp_t``.
    """
    if kind == "paper":
        return rollout.reward
    if rollout.label_log_prob is None:
        raise ValueError(f"location_reward={kind!r} needs the rollout's label log-probabilities (supervised)")
    lp = rollout.label_log_prob.clamp(min=LOG_LIKELIHOOD_FLOOR)
    alive = rollout.alive
    following = torch.cat([alive[1:], torch.zeros_like(alive[:1])])  # 1 where step t + 1 is in the episode
    if kind == "log_likelihood":
        return lp * alive * (1 - following)
    if kind == "dense":
        gain = torch.cat([lp[1:] - lp[:-1], torch.zeros_like(lp[:1])])
        return gain * following
    raise ValueError(f"location_reward must be 'paper', 'log_likelihood' or 'dense', got {kind!r}")


def advantages(
    rollout: Rollout, gamma: float = 1.0, gae_lambda: float = 1.0, rewards: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """``(advantage, returns)``, both ``(T, B)``, from the rollout's rewards and baselines.

    With ``gamma = gae_lambda = 1`` the advantage is the paper's ``R_t - b_t``, ``R_t``
    the rewards still to come.  Otherwise it is the generalised advantage estimate
    ``sum_k (gamma lambda)^k delta_{t+k}``, ``delta_t = r_t + gamma b_{t+1} - b_t``.
    ``returns = advantage + b_t`` is what the baseline regresses on.  ``rewards``: ``(T, B)``
    in place of the rollout's (see :func:`location_rewards`).
    """
    alive = rollout.alive
    steps, batch = alive.shape
    baseline = rollout.baseline.detach()
    reward = (rollout.reward if rewards is None else rewards) * alive
    advantage = torch.zeros_like(reward)
    running = torch.zeros(batch, device=reward.device)
    none = torch.zeros(batch, device=reward.device)
    for t in range(steps - 1, -1, -1):  # backwards over the (short) episode
        following = alive[t + 1] if t + 1 < steps else none
        next_value = baseline[t + 1] * following if t + 1 < steps else none
        delta = reward[t] + gamma * next_value - baseline[t]
        running = (delta + gamma * gae_lambda * following * running) * alive[t]
        advantage[t] = running
    return advantage, advantage + baseline


def leave_one_out_advantage(returns: Tensor, alive: Tensor, group: int) -> Tensor:
    """Multi-sample advantage ``R_i - mean_{j != i} R_j`` ``(T, B)``: each episode against the
    other ``group - 1`` rollouts of the same image (consecutive slots of the batch, as the
    environment's ``rollouts_per_image`` lays them out)."""
    steps, batch = returns.shape
    if group < 2 or batch % group:
        raise ValueError(f"leave-one-out needs groups of >= 2 rollouts dividing the batch; got {group} for {batch}")
    grouped = (returns * alive).reshape(steps, batch // group, group)
    others = (grouped.sum(-1, keepdim=True) - grouped) / (group - 1)
    return (grouped - others).reshape(steps, batch) * alive


def self_critical_advantage(returns: Tensor, alive: Tensor, group: int) -> Tensor:
    """Self-critical advantage ``(T, B)``: each sampled episode's return minus that of its group's
    greedy episode (the first of each ``group`` consecutive slots, which gets 0)."""
    steps, batch = returns.shape
    if group < 2 or batch % group:
        raise ValueError(f"a self-critical baseline needs groups of >= 2 rollouts dividing the batch; got {group}")
    grouped = (returns * alive).reshape(steps, batch // group, group)
    advantage = grouped - grouped[:, :, :1]
    return advantage.reshape(steps, batch) * alive


def normalized(advantage: Tensor, alive: Tensor) -> Tensor:
    """``advantage`` standardised over the batch's live steps (zero mean, unit std)."""
    live = alive > 0
    return (advantage - advantage[live].mean()) / (advantage[live].std() + 1e-8)


def reinforce(log_prob: Tensor, advantage: Tensor, mask: Tensor) -> Tensor:
    """REINFORCE: ``-sum_t log pi_t * A_t`` over the masked steps, averaged over episodes.

    ``log_prob``, ``advantage`` (no gradient) and ``mask`` are ``(T, B)``.
    """
    return -(log_prob * advantage * mask).sum() / mask.shape[1]


def glimpse_prediction_error(rollout: Rollout) -> Tensor:
    """The glimpse predictor's squared error, summed over a glimpse's pixels and averaged over
    the steps whose next glimpse was taken (``location_used``); 0 without a predictor."""
    if rollout.glimpse_predictions is None or rollout.next_glimpses is None:
        return torch.zeros((), device=rollout.alive.device)
    error = ((rollout.glimpse_predictions - rollout.next_glimpses) ** 2).sum(-1)
    used = rollout.location_used
    return (error * used).sum() / used.sum().clamp(min=1)


def hybrid_loss(
    rollout: Rollout,
    supervised: bool,
    *,
    reinforce_weight: float = 1.0,
    baseline_weight: float = 1.0,
    entropy_coef: float = 0.0,
    normalize_advantage: bool = False,
    gamma: float = 1.0,
    gae_lambda: float = 1.0,
    state_loss_weight: float = 0.0,
    glimpse_prediction_weight: float = 0.0,
    location_reward: str = "paper",
    leave_one_out: int = 0,
    self_critical: int = 0,
) -> tuple[Tensor, dict[str, float]]:
    """The paper's hybrid loss on one batch of episodes; returns ``(loss, terms)``.

    Args:
        rollout: the batch (with gradients through the model's outputs).
        supervised: add the cross-entropy of the final logits against ``rollout.labels``.
        reinforce_weight, baseline_weight: weights of the policy-gradient terms and the
            baseline's MSE.
        entropy_coef: bonus on the discrete action's entropy (RL tasks).
        normalize_advantage: standardise ``R_t - b_t`` over the batch first.
        gamma, gae_lambda: 1 and 1 give the paper's ``R_t - b_t``; otherwise GAE.
        state_loss_weight: weight of the true-state decoder's MSE (when the rollout has one).
        glimpse_prediction_weight: weight of :func:`glimpse_prediction_error` (when the rollout has predictions).
        location_reward: what the policy gradient is paid (see :func:`location_rewards`).
        leave_one_out: ``M >= 2``: the advantage compares each episode with the other ``M - 1``
            rollouts of its image (:func:`leave_one_out_advantage`) instead of ``b_t``; 0: ``R_t - b_t``.
        self_critical: ``M >= 2``: the advantage is the return minus that of the image's greedy
            episode (:func:`self_critical_advantage`; the rollout must have played one per group).

    Returns:
        The scalar loss and each term's value (``cross_entropy``, ``location_pg``,
        ``action_pg``, ``baseline_mse``, ``entropy``, ``state_mse``, ``glimpse_mse``, ``loss``).
    """
    advantage, returns = advantages(rollout, gamma, gae_lambda, location_rewards(rollout, location_reward))
    if leave_one_out:
        advantage = leave_one_out_advantage(returns, rollout.alive, leave_one_out)
    elif self_critical:
        advantage = self_critical_advantage(returns, rollout.alive, self_critical)
    if normalize_advantage:
        advantage = normalized(advantage, rollout.alive)
    alive = rollout.alive
    steps = alive.sum()
    zero = torch.zeros((), device=alive.device)

    location_pg = reinforce(rollout.location_log_prob, advantage, rollout.location_used)
    action_pg = reinforce(rollout.action_log_prob, advantage, alive)
    if rollout.stop_log_prob is not None:  # the stop policy: REINFORCE on the same advantage
        action_pg = action_pg + reinforce(rollout.stop_log_prob, advantage, alive)
    baseline_mse = ((rollout.baseline - returns) ** 2 * alive).sum() / steps
    entropy = (rollout.entropy * alive).sum() / steps
    if supervised:
        assert rollout.labels is not None, "a supervised loss needs the rollout's labels"
        cross_entropy = torch.nn.functional.cross_entropy(rollout.final_logits, rollout.labels)
    else:
        cross_entropy = zero
    if rollout.state_predictions is not None and rollout.true_states is not None:
        state_error = ((rollout.state_predictions - rollout.true_states) ** 2).mean(-1)
        state_mse = (state_error * alive).sum() / steps
    else:
        state_mse = zero
    glimpse_mse = glimpse_prediction_error(rollout)

    loss = (
        cross_entropy
        + reinforce_weight * (location_pg + action_pg)
        + baseline_weight * baseline_mse
        - entropy_coef * entropy
        + state_loss_weight * state_mse
        + glimpse_prediction_weight * glimpse_mse
    )
    terms = {
        "loss": loss.item(),
        "cross_entropy": cross_entropy.item(),
        "location_pg": location_pg.item(),
        "action_pg": action_pg.item(),
        "baseline_mse": baseline_mse.item(),
        "entropy": entropy.item(),
        "state_mse": state_mse.item(),
        "glimpse_mse": glimpse_mse.item(),
    }
    return loss, terms
