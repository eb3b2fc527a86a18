"""The Recurrent Attention Model of Mnih et al. (2014), Figure 1, one module per box.

Shapes: ``B`` episodes in a batch, ``k`` retina scales, ``g`` retina side.

* :class:`GlimpseNetwork` f_g: glimpse ``(B, k, g, g)`` and its location ``(B, 2)`` (with
  the paper's second extension, the chosen scale: ``(B, 3)``, location then zoom) ->
  glimpse feature ``(B, 256)``:
  ``h_g = ReLU(Linear(rho))``, ``h_l = ReLU(Linear(l))``, ``g = ReLU(Linear(h_g) + Linear(h_l))``.
* :class:`CoreNetwork` f_h: ``h_t = ReLU(Linear(h_{t-1}) + Linear(g_t))`` or an LSTM.
* :class:`LocationNetwork` f_l: Gaussian policy, mean ``tanh(Linear(h_t))``, fixed std (over
  the next location, and the next zoom when the env lets the agent choose the scale).
* :class:`ActionNetwork` f_a: logits ``Linear(h_t)`` over the environment's actions.
* :class:`BaselineNetwork` b: ``Linear(h_t)``, the expected reward (variance reduction).
* :class:`StateCritic` (optional, not in the paper): an asymmetric critic, an MLP on the
  environment's true state ``info["state"]`` ``(B, d)`` -> ``(B,)``, used in training only.
* :class:`StateDecoder` (optional, not in the paper): ``Linear(h_t)`` -> ``(B, d)``, the
  true state as the core believes it; its MSE is an auxiliary training loss.
* :class:`GlimpsePredictor` (optional, not in the paper): the next glimpse ``(B, k*g*g)``
  predicted from ``h_t`` and the fixation chosen; an auxiliary loss that reads observations only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.distributions import Bernoulli, Categorical

__all__ = [
    "GlimpseNetwork",
    "ConvWhat",
    "CoreNetwork",
    "LocationNetwork",
    "ActionNetwork",
    "BaselineNetwork",
    "StateCritic",
    "StateDecoder",
    "GlimpsePredictor",
    "RecurrentAttentionModel",
    "StepOutput",
    "gaussian_log_prob",
]


def gaussian_log_prob(x: Tensor, mean: Tensor, std: float) -> Tensor:
    """``log N(x; mean, std^2)`` summed over the last axis: ``(B, d)`` -> ``(B,)``.

    The location policy's log-likelihood, written out (``torch.distributions.Normal`` gives
    the same values; building one per glimpse step cost about 5% of a training update).
    """
    z = (x - mean) / std
    return (-0.5 * z * z).sum(-1) - x.shape[-1] * (math.log(std) + 0.5 * math.log(2 * math.pi))


class ConvWhat(nn.Module):
    """A convolutional "what" pathway (not in the paper): the ``k`` scales of a glimpse as
    channels, two 3x3 convolutions (16 and 32 channels, the second with stride 2), then a
    linear layer: ``(B, k, g, g)`` -> ``(B, out_size)`` before the ReLU.  Colour glimpses
    ``(B, k, c, g, g)`` stack their ``k * c`` planes as channels."""

    def __init__(self, glimpse_shape: tuple[int, ...], out_size: int) -> None:
        super().__init__()
        *planes, g, g2 = (int(d) for d in glimpse_shape)
        channels = math.prod(planes) if planes else 1
        self.conv = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.channels = channels
        side = ((g - 1) // 2 + 1, (g2 - 1) // 2 + 1)
        self.linear = nn.Linear(32 * side[0] * side[1], out_size)

    def forward(self, glimpse: Tensor) -> Tensor:
        x = glimpse.reshape(glimpse.shape[0], self.channels, *glimpse.shape[-2:])
        return self.linear(self.conv(x).flatten(1))


class GlimpseNetwork(nn.Module):
    """f_g: what was seen and where, fused into one feature vector.

    Args:
        glimpse_shape: ``(k, g, g)`` of the sensor.
        what_size: units of ``h_g`` (128 in the paper).
        where_size: units of ``h_l`` (128).
        out_size: units of ``g_t`` (256).
        where_dims: size of the "where" input: 2 (location) or 3 (location, zoom).
        what: ``"fc"``: the paper's ``h_g = ReLU(Linear(rho))``; ``"conv"``: ``h_g =
            ReLU(ConvWhat(rho))`` (see :class:`ConvWhat`).
    """

    def __init__(
        self,
        glimpse_shape: tuple[int, ...],
        what_size: int = 128,
        where_size: int = 128,
        out_size: int = 256,
        where_dims: int = 2,
        what: str = "fc",
    ) -> None:
        super().__init__()
        if what not in ("fc", "conv"):
            raise ValueError(f"glimpse network must be 'fc' or 'conv', got {what!r}")
        n_in = math.prod(int(d) for d in glimpse_shape)
        self.what: nn.Module = nn.Linear(n_in, what_size) if what == "fc" else ConvWhat(glimpse_shape, what_size)
        self.flatten = what == "fc"
        self.where = nn.Linear(where_dims, where_size)
        self.what_out = nn.Linear(what_size, out_size)
        self.where_out = nn.Linear(where_size, out_size)

    def forward(self, glimpse: Tensor, location: Tensor) -> Tensor:
        """``(B, k, g, g)``, ``(B, where_dims)`` -> ``(B, out_size)``."""
        h_g = torch.relu(self.what(glimpse.flatten(1) if self.flatten else glimpse))
        h_l = torch.relu(self.where(location))
        return torch.relu(self.what_out(h_g) + self.where_out(h_l))


class CoreNetwork(nn.Module):
    """f_h: the recurrent state that integrates the glimpses.

    Args:
        input_size: size of the glimpse feature.
        hidden_size: size of ``h_t`` (256).
        kind: ``"rnn"`` (the paper's ReLU RNN for classification) or ``"lstm"`` (Catch).
    """

    def __init__(self, input_size: int = 256, hidden_size: int = 256, kind: str = "rnn") -> None:
        super().__init__()
        if kind not in ("rnn", "lstm"):
            raise ValueError(f"core must be 'rnn' or 'lstm', got {kind!r}")
        self.kind = kind
        self.hidden_size = hidden_size
        if kind == "rnn":
            self.input_to_hidden = nn.Linear(input_size, hidden_size)
            self.hidden_to_hidden = nn.Linear(hidden_size, hidden_size)
        else:
            self.cell = nn.LSTMCell(input_size, hidden_size)

    @property
    def n_state(self) -> int:
        """Tensors in the recurrent state: 1 (``h``) or 2 (``h, c``)."""
        return 1 if self.kind == "rnn" else 2

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> tuple[Tensor, ...]:
        return tuple(torch.zeros(batch, self.hidden_size, device=device) for _ in range(self.n_state))

    def forward(self, g: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        """``g`` ``(B, input_size)``, state -> ``h_t`` ``(B, hidden)``, new state."""
        if self.kind == "rnn":
            h = torch.relu(self.input_to_hidden(g) + self.hidden_to_hidden(state[0]))
            return h, (h,)
        h, c = self.cell(g, state)
        return h, (h, c)


class LocationNetwork(nn.Module):
    """f_l: where to look next, a Gaussian with mean ``f(Linear(h_t))`` and fixed std.

    Trained by REINFORCE only.  The mean is never detached, so this network's weights
    always get the policy gradient.  With ``grad_to_core=False`` its *input* ``h_t`` is
    detached, so the high-variance REINFORCE gradient stays out of the core and
    glimpse networks (they learn from the supervised loss, or the action's policy
    gradient); with ``True`` it flows through the whole model.

    ``mean="tanh"`` bounds the mean to ``(-1, 1)``; ``"linear"`` is the paper's plain
    ``Linear(h_t)`` (the environment clips the fixation to ``[-1, 1]``).  A tanh mean
    that drifts into saturation gets no gradient back out (its slope ``1 - mu^2``
    vanishes); a linear one always does.

    ``dims=3`` (the paper's second extension) adds the next glimpse's zoom as a third
    output, a Gaussian with the same std, trained by the same REINFORCE term.
    """

    def __init__(self, hidden_size: int = 256, grad_to_core: bool = False, mean: str = "tanh", dims: int = 2) -> None:
        super().__init__()
        if mean not in ("tanh", "linear"):
            raise ValueError(f"location mean must be 'tanh' or 'linear', got {mean!r}")
        self.mean = nn.Linear(hidden_size, dims)
        self.grad_to_core = grad_to_core
        self.squash = mean == "tanh"

    def forward(self, h: Tensor) -> Tensor:
        """``(B, hidden)`` -> mean location ``(B, dims)`` (then the zoom, when ``dims=3``)."""
        mu = self.mean(h if self.grad_to_core else h.detach())
        return torch.tanh(mu) if self.squash else mu


class ActionNetwork(nn.Module):
    """f_a: logits over the environment's discrete actions (the label, or the paddle move)."""

    def __init__(self, hidden_size: int = 256, n_actions: int = 10) -> None:
        super().__init__()
        self.logits = nn.Linear(hidden_size, n_actions)

    def forward(self, h: Tensor) -> Tensor:
        return self.logits(h)


class BaselineNetwork(nn.Module):
    """b_t: expected reward from ``h_t``, trained by MSE.

    ``grad_to_core=False`` (default) reads a detached ``h_t``: the baseline only reduces
    variance.  ``True`` lets its regression also train the core (as a critic does).
    """

    def __init__(self, hidden_size: int = 256, grad_to_core: bool = False) -> None:
        super().__init__()
        self.value = nn.Linear(hidden_size, 1)
        self.grad_to_core = grad_to_core

    def forward(self, h: Tensor) -> Tensor:
        return self.value(h if self.grad_to_core else h.detach()).squeeze(-1)


class StateCritic(nn.Module):
    """An asymmetric critic: the expected return from the environment's true state.

    Not part of the paper.  In Catch the return depends on where the ball will land
    relative to the paddle, which ``h_t`` only knows as well as the glimpses so far
    revealed it; a critic that reads the true state (``info["state"]``, training only)
    scores each move sharply, so generalised advantage estimation with a small lambda
    gives each move its own credit.  The policy still acts on glimpses alone.

    Args:
        state_size: ``d`` of ``info["state"]``.
        hidden_size: units of its two tanh layers (128).
    """

    def __init__(self, state_size: int, hidden_size: int = 128) -> None:
        super().__init__()
        self.value = nn.Sequential(
            nn.Linear(state_size, hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, 1),
        )

    def forward(self, state: Tensor) -> Tensor:
        """``(B, d)`` -> ``(B,)``."""
        return self.value(state).squeeze(-1)


class StateDecoder(nn.Module):
    """An auxiliary head: the environment's true state read out of ``h_t``.

    Not part of the paper.  Its MSE against ``info["state"]`` (training only) is a dense
    supervised signal for the core and glimpse networks - in Catch, where the ball and
    the paddle are - as the label's cross-entropy is in classification.  Without it the
    only signal reaching them in Catch is the moves' policy gradient.
    """

    def __init__(self, hidden_size: int, state_size: int) -> None:
        super().__init__()
        self.readout = nn.Linear(hidden_size, state_size)

    def forward(self, h: Tensor) -> Tensor:
        """``(B, hidden)`` -> ``(B, d)``."""
        return self.readout(h)


class GlimpsePredictor(nn.Module):
    """An auxiliary head: the next glimpse, predicted from ``h_t`` and where it will be taken.

    Not part of the paper.  It reads nothing but the agent's own observations, so it is
    allowed on the rl track: to predict the glimpse at the fixation it just chose, the core
    must know where things are and how they move (in Catch, the ball's position and velocity
    and the paddle's position), a dense signal where the reward comes once per episode.
    ``MLP(h_t, l_t) = Linear(ReLU(Linear([h_t, l_t])))`` -> ``(B, k*g*g)``; the policy never
    reads it.

    Args:
        hidden_size: size of ``h_t``.
        where_dims: size of the fixation (2, or 3 with the zoom).
        glimpse_shape: ``(k, g, g)`` of the sensor.
        width: units of its hidden layer (256).
    """

    def __init__(self, hidden_size: int, where_dims: int, glimpse_shape: tuple[int, ...], width: int = 256) -> None:
        super().__init__()
        self.predict = nn.Sequential(
            nn.Linear(hidden_size + where_dims, width),
            nn.ReLU(),
            nn.Linear(width, math.prod(int(d) for d in glimpse_shape)),
        )

    def forward(self, h: Tensor, where: Tensor) -> Tensor:
        """``(B, hidden)``, ``(B, where_dims)`` -> ``(B, k*g*g)``."""
        return self.predict(torch.cat([h, where], dim=-1))


@dataclass
class StepOutput:
    """What the model produces after one glimpse (all with leading dimension ``B``)."""

    location: Tensor  #: next fixation ``(B, 2)``, then the zoom ``(B, 3)`` (sampled, or the mean when deterministic)
    location_log_prob: Tensor  #: ``log pi(location | h_t)`` ``(B,)``
    location_mean: Tensor  #: ``(B, 2)`` or ``(B, 3)``
    action: Tensor  #: discrete action ``(B,)`` (sampled, or argmax when deterministic)
    action_logits: Tensor  #: ``(B, n_actions)``
    baseline: Tensor | None  #: ``b_t`` ``(B,)``; ``None`` with a state critic (it needs ``info["state"]``)
    state: tuple[Tensor, ...]  #: the new recurrent state
    state_prediction: Tensor | None = None  #: ``(B, d)`` from the :class:`StateDecoder`, if any
    stop: Tensor | None = None  #: ``(B,)`` 1 = stop now (sampled, or ``p > 0.5`` when deterministic), if any
    stop_log_prob: Tensor | None = None  #: ``log pi(stop | h_t)`` ``(B,)``
    hidden: Tensor | None = None  #: ``h_t`` ``(B, hidden)``, for heads applied after the step (the glimpse predictor)


class RecurrentAttentionModel(nn.Module):
    """The RAM: glimpse network -> core -> (location, action, baseline) heads.

    Args:
        glimpse_shape: ``(k, g, g)``.
        n_actions: size of the environment's discrete action.
        core: ``"rnn"`` or ``"lstm"``.
        hidden_size: core state size (256).
        glimpse_hidden: sizes of ``h_g``/``h_l`` (128) and of ``g_t`` (256).
        location_std: the fixed std of the location policy.
        location_grad_to_core: let the location policy gradient reach the core and
            glimpse networks (see :class:`LocationNetwork`).
        location_mean: ``"tanh"`` or ``"linear"`` (see :class:`LocationNetwork`).
        baseline_grad_to_core: let the baseline's regression train the core.
        critic_state_size: ``d > 0``: a :class:`StateCritic` on ``(B, d)`` true states
            replaces the :class:`BaselineNetwork`.
        decoder_state_size: ``d > 0`` adds a :class:`StateDecoder` predicting them.
        stop_policy: add the Bernoulli stop head (the env lets the agent stop early).
        glimpse_network: ``"fc"`` (the paper's) or ``"conv"`` (see :class:`GlimpseNetwork`).
        glimpse_predictor: add a :class:`GlimpsePredictor` (its loss is an auxiliary term).
        zoom_policy: the location policy also chooses the next glimpse's zoom, and the
            glimpse network reads each glimpse's zoom beside its location.
    """

    def __init__(
        self,
        glimpse_shape: tuple[int, ...],
        n_actions: int,
        core: str = "rnn",
        hidden_size: int = 256,
        glimpse_hidden: int = 128,
        glimpse_out: int = 256,
        location_std: float = 0.1,
        location_grad_to_core: bool = False,
        location_mean: str = "tanh",
        baseline_grad_to_core: bool = False,
        critic_state_size: int = 0,
        decoder_state_size: int = 0,
        stop_policy: bool = False,
        zoom_policy: bool = False,
        glimpse_network: str = "fc",
        glimpse_predictor: bool = False,
    ) -> None:
        super().__init__()
        if not location_std > 0:
            raise ValueError(f"location_std must be > 0, got {location_std!r}")
        self.glimpse_shape = tuple(int(d) for d in glimpse_shape)
        self.n_actions = int(n_actions)
        self.location_std = float(location_std)
        #: the "where" of a glimpse: (row, col), then the zoom when the agent chooses the scale
        self.where_dims = 3 if zoom_policy else 2
        self.glimpse_network = GlimpseNetwork(
            self.glimpse_shape, glimpse_hidden, glimpse_hidden, glimpse_out, self.where_dims, glimpse_network
        )
        self.core_network = CoreNetwork(glimpse_out, hidden_size, core)
        self.location_network = LocationNetwork(hidden_size, location_grad_to_core, location_mean, self.where_dims)
        self.action_network = ActionNetwork(hidden_size, n_actions)
        # b_t: the paper's baseline on h_t, or (replacing it) a critic on the true state
        self.baseline_network = BaselineNetwork(hidden_size, baseline_grad_to_core) if critic_state_size <= 0 else None
        self.state_critic = StateCritic(critic_state_size) if critic_state_size > 0 else None
        self.state_decoder = StateDecoder(hidden_size, decoder_state_size) if decoder_state_size > 0 else None
        # the paper's first extension: a Bernoulli policy on a detached h_t decides when to stop
        self.stop_network = nn.Linear(hidden_size, 1) if stop_policy else None
        self.glimpse_predictor = (
            GlimpsePredictor(hidden_size, self.where_dims, self.glimpse_shape) if glimpse_predictor else None
        )

    def initial_state(self, batch: int) -> tuple[Tensor, ...]:
        return self.core_network.initial_state(batch, next(self.parameters()).device)

    def forward(
        self,
        glimpse: Tensor,
        location: Tensor,
        state: tuple[Tensor, ...],
        deterministic: bool = False,
        sample_action: bool = True,
    ) -> StepOutput:
        """One glimpse in, the next fixation and an action out.

        Args:
            glimpse: ``(B, k, g, g)``; location: ``(B, where_dims)`` where it was taken
                (and at which zoom).
            state: recurrent state from :meth:`initial_state` or the previous step.
            deterministic: fixation = policy mean, action = argmax.
            sample_action: sample the discrete action from its softmax (pure RL);
                ``False`` takes the argmax (classification, where the label is
                trained by cross-entropy).
        """
        g = self.glimpse_network(glimpse, location)
        h, state = self.core_network(g, state)
        mean = self.location_network(h)
        # no reparameterisation: REINFORCE only (torch.normal: the draws of Normal(mean, std).sample())
        fixation = mean.detach() if deterministic else torch.normal(mean.detach(), self.location_std)
        log_prob = gaussian_log_prob(fixation, mean, self.location_std)
        logits = self.action_network(h)
        action = logits.argmax(-1) if deterministic or not sample_action else Categorical(logits=logits).sample()
        baseline = self.baseline_network(h) if self.baseline_network is not None else None
        decoded = self.state_decoder(h) if self.state_decoder is not None else None
        stop = stop_log_prob = None
        if self.stop_network is not None:
            stopping = Bernoulli(logits=self.stop_network(h.detach()).squeeze(-1))
            stop = (stopping.probs > 0.5).float() if deterministic else stopping.sample()
            stop_log_prob = stopping.log_prob(stop)
        return StepOutput(fixation, log_prob, mean, action, logits, baseline, state, decoded, stop, stop_log_prob, h)
