"""Digit classification by glimpses: the paper's MNIST tasks as POMDP environments."""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ram_env.core import GlimpseEnv, GlimpseTask, GlimpseVectorEnv, check_positive_int, parse_zoom
from ram_env.datasets import Canvases, DigitCanvases
from ram_env.sensor import GlimpseSensor

__all__ = ["ClassificationTask", "GlimpseClassificationEnv", "GlimpseClassificationVectorEnv"]

MAX_GLIMPSES = 1000  #: longest episode
#: the keywords every classification task shares (handed to ClassificationTask._setup)
TASK_OPTIONS = (
    "n_glimpses",
    "glimpse_size",
    "n_scales",
    "scale_factor",
    "initial_location",
    "rollouts_per_image",
    "reward",
    "allow_stop",
    "glimpse_cost",
    "zoom",
)


def task_options(values: dict[str, Any]) -> dict[str, Any]:
    """The :data:`TASK_OPTIONS` among a constructor's ``locals()``."""
    return {name: values[name] for name in TASK_OPTIONS}


#: reward variants (see the Rewards section of GlimpseClassificationEnv)
REWARDS = ("final", "dense", "cross_entropy")


class ClassificationTask(GlimpseTask):
    """``N`` digit-classification episodes (see :class:`GlimpseClassificationEnv`)."""

    action_key = "label"
    reset_options = frozenset({"initial_location", "index"})

    def __init__(
        self,
        num_envs: int = 1,
        split: str = "train",
        canvas_size: int = 28,
        n_distractors: int = 0,
        distractor_size: int = 8,
        n_glimpses: int = 6,
        glimpse_size: int = 8,
        n_scales: int = 1,
        scale_factor: float = 2.0,
        initial_location: Any = "random",
        data_dir: str | os.PathLike | None = None,
        rollouts_per_image: int = 1,
        reward: str = "final",
        allow_stop: bool = False,
        glimpse_cost: float = 0.0,
        zoom: tuple[float, float] | None = None,
    ) -> None:
        make = lambda: DigitCanvases(split, canvas_size, n_distractors, distractor_size, data_dir)  # noqa: E731
        self._setup(num_envs, make, **task_options(locals()))

    def _setup(
        self,
        num_envs: int,
        make_dataset: Any,
        n_glimpses: int,
        glimpse_size: int,
        n_scales: int,
        scale_factor: float,
        initial_location: Any,
        rollouts_per_image: int,
        reward: str,
        allow_stop: bool = False,
        glimpse_cost: float = 0.0,
        zoom: tuple[float, float] | None = None,
    ) -> None:
        """The construction shared by every classification task: the keywords checked,
        ``make_dataset()`` (a :class:`~ram_env.datasets.Canvases`) built, the arrays made."""
        if not isinstance(allow_stop, bool):
            raise ValueError(f"allow_stop must be True or False, got {allow_stop!r}")
        if isinstance(glimpse_cost, bool) or not isinstance(glimpse_cost, (int, float)) or not 0 <= glimpse_cost < 1e6:
            raise ValueError(f"glimpse_cost must be a number >= 0, got {glimpse_cost!r}")
        self.allow_stop = allow_stop
        self.glimpse_cost = float(glimpse_cost)
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
        self.reward_mode = reward
        self.choice_scores = reward == "cross_entropy"
        self.n_glimpses = check_positive_int("n_glimpses", n_glimpses)
        if self.n_glimpses > MAX_GLIMPSES:
            raise ValueError(f"n_glimpses must be <= {MAX_GLIMPSES}, got {n_glimpses}")
        self.rollouts_per_image = check_positive_int("rollouts_per_image", rollouts_per_image)
        if allow_stop and self.rollouts_per_image > 1:
            raise ValueError("allow_stop and rollouts_per_image > 1 do not mix: episodes of a group would end apart")
        if num_envs % self.rollouts_per_image:
            raise ValueError(
                f"rollouts_per_image={rollouts_per_image} must divide num_envs={num_envs} "
                "(consecutive groups of that many envs share one image)"
            )
        self.dataset: Canvases = make_dataset()
        size = self.dataset.canvas_size
        if isinstance(glimpse_size, numbers.Integral) and not isinstance(glimpse_size, bool) and glimpse_size > size:
            raise ValueError(f"glimpse_size {glimpse_size} is larger than the {size}x{size} image")
        zoom_range = parse_zoom(zoom)
        super().__init__(
            num_envs,
            GlimpseSensor(glimpse_size, n_scales, scale_factor, max_width=zoom_range[1] if zoom_range else None),
            (size, size),
            n_actions=self.dataset.n_classes,
            max_steps=self.n_glimpses + 1,  # + the empty first observation of initial_location="none"
            initial_location=initial_location,
            channels=self.dataset.channels,
            zoom=zoom_range,
        )
        n = self.num_envs
        self.canvas = np.zeros((n, size, size, *self.dataset.images.shape[3:]), dtype=self.dataset.images.dtype)
        self.label = np.zeros(n, dtype=np.int64)
        self.index = np.zeros(n, dtype=np.int64)
        self.episode_count = np.zeros(n, dtype=np.int64)
        self.correct = np.zeros(n, dtype=bool)  #: the last finished episode's label was right

    def restart_sequence(self, seeded: bool) -> None:
        if seeded:
            self.episode_count[:] = 0

    def _start(self, ids: np.ndarray, options: Mapping[str, Any]) -> np.ndarray:
        data = self.dataset
        u = self.uniforms(ids, data.layout_width + 2)
        m = self.rollouts_per_image
        if m > 1:  # one image per group of m consecutive slots, drawn by the group's first slot
            groups = ids // m
            if len(ids) % m or np.any(np.bincount(groups, minlength=self.num_envs // m)[groups] != m):
                raise RuntimeError(
                    f"rollouts_per_image={m}: episodes must start in whole groups of {m} envs "
                    f"(got envs {ids.tolist()[:10]}...); reset every env at once"
                )
            leaders = np.searchsorted(ids, groups * m)
            u[:, : data.layout_width] = u[leaders, : data.layout_width]
        else:
            groups = ids
        slots = self.num_envs // m
        indices = None
        if "index" in options:
            requested = np.asarray(options["index"])
            if requested.dtype.kind not in "iu" or requested.shape not in ((), (len(ids),)):
                raise ValueError(f"options['index'] must be an int or {len(ids)} ints, got {options['index']!r}")
            indices = np.broadcast_to(requested, (len(ids),)).astype(np.int64)
            if np.any(indices < 0) or np.any(indices >= len(data)):
                raise ValueError(f"options['index'] must be in [0, {len(data)}), got {options['index']!r}")
        elif data.fixed:  # slot i of N visits images i, i + N, i + 2N, ...
            indices = (groups + slots * self.episode_count[ids]) % len(data)
            self.episode_count[ids] += 1
        layouts = data.fixed_layouts(indices) if indices is not None and data.fixed else u[:, : data.layout_width]
        canvases, indices = data.render(layouts, indices)
        self.canvas[ids] = canvases
        self.index[ids] = indices
        self.label[ids] = data.labels[indices]
        self._set_images(ids, canvases)
        fixation = data.fixed_fixations(indices) if data.fixed else u[:, -2:]
        return self.initial_locations(fixation, options)

    def _advance(self, ids: np.ndarray, locations: np.ndarray, choices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        final = (self.steps[ids] >= self.n_glimpses + self.blank_start[ids]) | self.stopping
        label = self.label[ids]
        if self.reward_mode == "final":
            reward = np.where(final, (choices == label).astype(np.float64), 0.0)
        elif self.reward_mode == "dense":  # the label is scored at every step, 1/n_glimpses each
            reward = (choices == label).astype(np.float64) / self.n_glimpses
        else:  # cross_entropy: minus the cross-entropy of softmax(scores) at every step, 1/n_glimpses each
            shifted = choices - choices.max(axis=1, keepdims=True)
            log_p = shifted[np.arange(len(ids)), label] - np.log(np.exp(shifted).sum(axis=1))
            reward = log_p / self.n_glimpses
        if self.blank_start[ids].any():  # the empty first observation's step scores nothing
            reward = np.where(self.blank_start[ids] & (self.steps[ids] == 1) & ~final, 0.0, reward)
        if self.glimpse_cost:  # every glimpse the agent goes on to take costs glimpse_cost
            reward = reward - np.where(final, 0.0, self.glimpse_cost)
        self.correct[ids] = np.where(final, self._chosen(choices) == label, self.correct[ids])
        if not final.all():
            self._look(ids[~final], locations[~final])
        return reward, final

    def _chosen(self, choices: np.ndarray) -> np.ndarray:
        """The label each choice names: itself, or the argmax of class scores."""
        return choices.argmax(axis=1) if self.choice_scores else choices

    def _info(self) -> dict[str, np.ndarray]:
        info = {"label": self.label, "index": self.index}
        if self.allow_stop:
            info["glimpses"] = self.path_length  # glimpses seen this episode
        return info

    def frame_image(self, i: int) -> np.ndarray:
        canvas = self.canvas[i]
        return canvas if canvas.dtype == np.uint8 else (np.clip(canvas, 0, 1) * 255).astype(np.uint8)


class GlimpseClassificationEnv(GlimpseEnv):
    """Classify a digit you can only see through a few foveated glimpses.

    ## Description
    The classification tasks of Mnih et al., *Recurrent Models of Visual Attention*
    (NIPS 2014), section 4.1.  An MNIST digit is drawn on a canvas - as given (28x28),
    translated to a random position on a larger blank canvas, or translated with
    clutter from other digits - and the agent never sees the canvas: each step it
    receives a *glimpse*, ``n_scales`` concentric square patches around the location
    it chose, the first ``glimpse_size`` pixels wide and each next one
    ``scale_factor`` times wider, all reduced to ``glimpse_size x glimpse_size`` by
    area averaging (:class:`~ram_env.sensor.GlimpseSensor`).  After ``n_glimpses``
    glimpses it names the digit.

    Locations are ``(row, col)`` in ``[-1, 1]``: ``(0, 0)`` is the canvas centre,
    ``(-1, -1)`` its top-left corner.

    ## Action Space
    ``Dict(location=Box(-1, 1, (2,), float32), label=Discrete(10))``

    | key | meaning |
    |---|---|
    | ``location`` | where the next glimpse is taken; values outside ``[-1, 1]`` are clipped, NaN/inf raise |
    | ``label`` | the predicted digit; only read on the last step (it must still be in ``[0, 10)``) |
    | ``stop`` | only with ``allow_stop=True``: ``Discrete(2)``, 1 ends the episode now and scores ``label`` |
    | ``zoom`` | only with ``zoom=(a, b)``: ``Box(-1, 1, (1,))``, the next glimpse's scale (see Choosing the scale) |

    ## Observation Space
    ``Dict(glimpse=Box(0, 1, (n_scales, glimpse_size, glimpse_size), float32), location=Box(-1, 1, (2,), float32))``

    | key | meaning |
    |---|---|
    | ``glimpse`` | the retina's patches, finest first, pixel values in ``[0, 1]`` (0 outside the canvas) |
    | ``location`` | where that glimpse was taken (after clipping) |
    | ``zoom`` | only with ``zoom=(a, b)``: ``Box(-1, 1, (1,))``, the zoom that glimpse was read at |

    ## Choosing the scale
    ``zoom=(a, b)`` (the paper's second extension) lets the agent choose the scale of each
    glimpse: the action's ``zoom`` ``z`` in ``[-1, 1]`` sets the width of the next glimpse's
    finest patch to ``w = a * (b / a) ** ((z + 1) / 2)`` pixels (``a`` at -1, ``b`` at +1,
    ``sqrt(a b)`` at 0; clipped), each next patch ``scale_factor`` times wider, every patch
    still reduced to ``glimpse_size x glimpse_size`` by area averaging (a patch narrower than
    ``glimpse_size`` pixels is magnified: its cells are fractions of a pixel).  The first
    glimpse is read at ``z = 0``.  ``zoom=(4, 16)`` with ``glimpse_size=8``: the agent reads
    4 to 16 pixels across at 8x8, 2x magnified to 2x reduced.

    ## Rewards
    Chosen by ``reward=`` (the ids keep the paper's ``"final"``):

    * ``"final"`` (default; ``label`` is ``Discrete(10)``): 0.0 on every step but the last;
      on the last, 1.0 if ``label`` is the true digit, else 0.0 (the paper's reward).
    * ``"dense"`` (``Discrete(10)``): every step scores its ``label``, ``1 / n_glimpses``
      if right, else 0.0; an episode sums to the fraction of its steps that were right.
    * ``"cross_entropy"`` (``label`` is ``Box(-10, 10, (10,))`` class scores): every step
      gives ``log softmax(scores)[true digit] / n_glimpses``, minus the cross-entropy of
      the prediction, as ap_gym's glimpse tasks do.

    With ``glimpse_cost=c`` every step that goes on to take another glimpse also gives
    ``-c`` (the first glimpse, at reset, is free), so an agent that may stop
    (``allow_stop=True``) trades accuracy against glimpses.

    Whatever the variant, ``agents.evaluation.evaluate`` reports accuracy: the last step's
    label (the argmax of the scores) against the true digit.

    ## Starting State
    A new canvas (``split="train"``: a random training digit with a fresh random
    translation and clutter; ``"validation"``/``"test"``: the next image of the split
    in order, with translation and clutter fixed by its index) and the first glimpse,
    at a uniformly random location (``initial_location="random"``), the centre
    (``"center"``) or a given ``(row, col)``.  On the validation and test splits the
    "random" first fixation is fixed by the image's index too, so a test episode is
    the same for every agent and every seed.  With ``initial_location="none"`` the first
    observation carries no glimpse (zeros, at location ``(0, 0)``) and the agent chooses
    every one of the ``n_glimpses`` fixations; the episode then has ``n_glimpses + 1``
    steps (see Episode End).

    ## Episode End
    The episode has exactly ``n_glimpses`` steps: the reset gives glimpse 1, steps
    1 .. ``n_glimpses - 1`` give glimpses 2 .. ``n_glimpses`` at the chosen locations,
    and step ``n_glimpses`` scores ``label`` (its ``location`` is ignored and the last
    observation repeated) and returns ``terminated=True``.  With
    ``initial_location="none"`` the reset gives an empty observation and steps 1 ..
    ``n_glimpses`` give glimpses 1 .. ``n_glimpses``: ``n_glimpses + 1`` steps.  With
    ``allow_stop=True`` (the paper's first extension) a step whose ``stop`` is 1 ends the
    episode at once and scores its ``label``; ``info["glimpses"]`` is the number of
    glimpses seen.  Never
    truncated.  Calling ``step`` after the end, or before ``reset``, raises ``RuntimeError``.

    ## Info
    ``info["label"]`` is the true digit (for the supervised part of the paper's hybrid
    loss; a pure reinforcement-learning agent must not read it) and
    ``info["index"]`` the image's index within its split.

    ## Arguments
    ```python
    import gymnasium as gym
    import ram_env

    env = gym.make("RAM-ClutteredMNIST-v0", split="test", n_glimpses=6, render_mode="rgb_array")
    ```

    | keyword | default (``RAM-MNIST-v0``) | meaning |
    |---|---|---|
    | ``split`` | ``"train"`` | ``"train"`` (55,000), ``"validation"`` (5,000) or ``"test"`` (10,000) |
    | ``canvas_size`` | 28 | side of the canvas; 28 = the digit as given |
    | ``n_distractors`` | 0 | clutter patches (4 for 60x60, 8 for 100x100 in the paper) |
    | ``distractor_size`` | 8 | side of each clutter patch |
    | ``n_glimpses`` | 6 | glimpses per episode |
    | ``glimpse_size`` | 8 | retina resolution ``g`` |
    | ``n_scales`` | 1 | patches per glimpse ``k`` |
    | ``scale_factor`` | 2.0 | width ratio of successive patches |
    | ``initial_location`` | ``"random"`` | ``"random"``, ``"center"``, ``"none"`` or ``(row, col)`` |
    | ``data_dir`` | bundled | another directory holding the four MNIST idx ``.gz`` files |
    | ``rollouts_per_image`` | 1 | vector env: groups of this many consecutive envs share an image (see below) |
    | ``reward`` | ``"final"`` | ``"final"``, ``"dense"`` or ``"cross_entropy"`` (see Rewards) |
    | ``allow_stop`` | ``False`` | add a ``stop`` choice to the action: stop early (see Episode End) |
    | ``glimpse_cost`` | 0.0 | reward ``-c`` for every glimpse after the first (see Rewards) |
    | ``zoom`` | ``None`` | ``(min_width, max_width)`` pixels: add a ``zoom`` to the action (see Choosing the scale) |
    | ``render_mode`` | ``None`` | ``"rgb_array"`` or ``"human"`` |

    Unknown or invalid keywords raise ``ValueError``.  ``reset(options=...)`` takes
    ``"index"`` (show that image of the split) and ``"initial_location"``.

    ## Vectorized environment
    ``gym.make_vec(id, num_envs=N)`` builds :class:`GlimpseClassificationVectorEnv`,
    which steps all ``N`` episodes with batched numpy (next-step autoreset).  With
    ``reset(seed=s)`` its env ``i`` plays exactly the episodes of ``gym.make(id)``
    reset with ``seed=s + i`` - except on the fixed splits, where env ``i`` of ``N``
    visits images ``i, i + N, i + 2N, ...`` so the first 10,000 episodes of the vector
    env cover the test set exactly once.

    With ``rollouts_per_image=M`` (training), envs ``jM .. jM + M - 1`` of a vector env
    show the same image with the same translation and clutter and differ only in their
    fixations: M Monte-Carlo samples of the location policy per image, as the strongest
    public re-implementations train.  ``M`` must divide ``num_envs`` and every env must
    reset at once (as fixed-length episodes do).

    ## Version History
    * v0 (2026-12-01): the random first fixation of a test or validation episode is fixed
      by the image index (before, it came from the reset seed, so a score moved with the
      seed); keywords ``rollouts_per_image``, ``initial_location="none"``, ``reward``,
      ``allow_stop``, ``glimpse_cost`` and ``zoom`` added.
      Training episodes are unchanged.
    * v0: initial version.
    """

    task_class = ClassificationTask
    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 4}


class GlimpseClassificationVectorEnv(GlimpseVectorEnv):
    """``N`` episodes of :class:`GlimpseClassificationEnv` stepped together with batched numpy.

    Infos are arrays: ``info["label"]`` and ``info["index"]`` of shape ``(N,)``.
    """

    task_class = ClassificationTask
