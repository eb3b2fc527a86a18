"""The paper's hybrid loss (Mnih et al. 2014, section 3), one named function per term.

For a batch of ``B`` episodes of ``T`` steps (a :class:`~agents.ram.rollout.Rollout`):

* :func:`advantages`: ``R_t - b_t`` (or generalised advantage estimation),
* :func:`reinforce`: the policy-gradient term ``-sum_t log pi(a_t) (R_t - b_t)``, per episode,
* the cross-entropy of the last step's action logits against the true labels,
* the baseline's mean squared error against the returns,
* optionally an entropy bonus and the true-state decoder's MSE (Catch's recipe).

:func:`hybrid_loss` adds them up, one line per term.
"""

from __future__ import annotations

import torch
from torch import Tensor

from agents.ram.rollout import Rollout

__all__ = ["advantages", "reinforce", "hybrid_loss"]


def advantages(rollout: Rollout, gamma: float = 1.0, gae_lambda: float = 1.0) -> tuple[Tensor, Tensor]:
    """``(advantage, returns)``, both ``(T, B)``, from the rollout's rewards and baselines.

    With ``gamma = gae_lambda = 1`` the advantage is the paper's ``R_t - b_t``, ``R_t``
    the rewards still to come.  Otherwise it is the generalised advantage estimate
    ``sum_k (gamma lambda)^k delta_{t+k}``, ``delta_t = r_t + gamma b_{t+1} - b_t``.
    ``returns = advantage + b_t`` is what the baseline regresses on.
    """
    alive = rollout.alive
    steps, batch = alive.shape
    baseline = rollout.baseline.detach()
    reward = rollout.reward * alive
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


def normalized(advantage: Tensor, alive: Tensor) -> Tensor:
    """``advantage`` standardised over the batch's live steps (zero mean, unit std)."""
    live = alive > 0
    return (advantage - advantage[live].mean()) / (advantage[live].std() + 1e-8)


def reinforce(log_prob: Tensor, advantage: Tensor, mask: Tensor) -> Tensor:
    """REINFORCE: ``-sum_t log pi_t * A_t`` over the masked steps, averaged over episodes.

    ``log_prob``, ``advantage`` (no gradient) and ``mask`` are ``(T, B)``.
    """
    return -(log_prob * advantage * mask).sum() / mask.shape[1]


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

    Returns:
        The scalar loss and each term's value (``cross_entropy``, ``location_pg``,
        ``action_pg``, ``baseline_mse``, ``entropy``, ``state_mse``, ``loss``).
    """
    advantage, returns = advantages(rollout, gamma, gae_lambda)
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
