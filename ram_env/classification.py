"""Digit classification by glimpses: the paper's MNIST tasks as POMDP environments."""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ram_env.core import (
    GlimpseEnv,
    GlimpseTask,
    GlimpseVectorEnv,
    InitialLocation,
    RenderModes,
    ZoomRange,
    check_positive_int,
    parse_zoom,
    passed_on,
)
from ram_env.datasets import Canvases, DigitCanvases
from ram_env.sensor import GlimpseSensor, check_reduction

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
    "retina_reduction",
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
        initial_location: InitialLocation = "random",
        data_dir: str | os.PathLike | None = None,
        rollouts_per_image: int = 1,
        reward: str = "final",
        allow_stop: bool = False,
        glimpse_cost: float = 0.0,
        zoom: ZoomRange = None,
        retina_reduction: str = "mean",
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
        retina_reduction: str = "mean",
    ) -> None:
        """The construction shared by every classification task: the keywords checked,
        ``make_dataset()`` (a :class:`~ram_env.datasets.Canvases`) built, the arrays made."""
        reduction = check_reduction(retina_reduction, "retina_reduction")
        zoom_range = parse_zoom(zoom)
        if zoom_range is not None and reduction != "mean":
            raise ValueError("zoom needs retina_reduction='mean': max pooling reads whole-pixel cells at fixed widths")
        if not isinstance(allow_stop, (bool, np.bool_)):
            raise ValueError(f"allow_stop must be True or False, got {allow_stop!r}")
        number = (int, float, np.integer, np.floating)  # numpy scalars as well as Python ones
        if isinstance(glimpse_cost, (bool, np.bool_)) or not isinstance(glimpse_cost, number) or not 0 <= glimpse_cost:
            raise ValueError(f"glimpse_cost must be a number >= 0, got {glimpse_cost!r}")
        if glimpse_cost >= 1e6:
            raise ValueError(
                f"glimpse_cost must be < 1e6 (a reward of a glimpse, next to 1 for the label), got {glimpse_cost!r}"
            )
        self.allow_stop = bool(allow_stop)
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
        max_width = zoom_range[1] if zoom_range else None
        super().__init__(
            num_envs,
            GlimpseSensor(glimpse_size, n_scales, scale_factor, max_width=max_width, reduction=reduction),
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
        #: fixed splits: the image each slot shows next (a group of ``rollouts_per_image`` slots
        #: shares it); unseeded, group ``j`` of ``G`` starts at image ``j``, then ``j + G``, ...
        self.next_index = np.arange(n, dtype=np.int64) // self.rollouts_per_image
        self.correct = np.zeros(n, dtype=bool)  #: the last finished episode's label was right

    def start_sequence(self, seeds: Sequence[int | None]) -> None:
        """The seed names the episode (fixed splits): group ``j`` (slot ``j`` without
        ``rollouts_per_image``) shows image ``seeds[j] mod N`` next, then every ``G``-th one
        after it, ``G`` the number of groups; ``None`` leaves a group where it is.  A vector
        env seeded ``s`` (slot ``i`` seeded ``s + i``) so gives group ``j`` images
        ``s + j, s + j + G, ...``: the whole split once in its first ``N`` episodes."""
        m = self.rollouts_per_image
        for j, s in enumerate(seeds[: self.num_envs // m]):
            if s is not None:
                self.next_index[j * m : (j + 1) * m] = int(s) % len(self.dataset)

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
        n_groups = self.num_envs // m
        indices = None
        if "index" in options:
            requested = np.asarray(options["index"])
            if requested.dtype.kind not in "iu" or requested.shape not in ((), (len(ids),)):
                raise ValueError(f"options['index'] must be an int or {len(ids)} ints, got {options['index']!r}")
            indices = np.broadcast_to(requested, (len(ids),)).astype(np.int64)
            if np.any(indices < 0) or np.any(indices >= len(data)):
                raise ValueError(f"options['index'] must be in [0, {len(data)}), got {options['index']!r}")
        elif data.fixed:  # the images the seed named, each group on by the number of groups
            indices = self.next_index[ids] % len(data)
            self.next_index[ids] = (indices + n_groups) % len(data)
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
    area averaging (:class:`~ram_env.sensor.GlimpseSensor`; ``retina_reduction="max"``
    max-pools them instead, see Arguments).  After ``n_glimpses`` glimpses it names the digit.

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
    glimpse is read at ``z = 0``.  ``a`` must be at least 0.01 pixels (a narrower patch
    would be below the sensor's float precision).  ``zoom=(4, 16)`` with ``glimpse_size=8``: the agent reads
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
    translation and clutter; ``"validation"``/``"test"``: the image the seed names, or
    the next one in order, with translation and clutter fixed by its index: see Seeding)
    and the first glimpse,
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
    | ``retina_reduction`` | ``"mean"`` | ``"mean"`` (area averaging, the paper's) or ``"max"`` (max pooling): below |
    | ``initial_location`` | ``"random"`` | ``"random"``, ``"center"``, ``"none"`` or ``(row, col)`` |
    | ``data_dir`` | bundled | another directory holding the four MNIST idx ``.gz`` files |
    | ``rollouts_per_image`` | 1 | vector env: groups of this many consecutive envs share an image (see below) |
    | ``reward`` | ``"final"`` | ``"final"``, ``"dense"`` or ``"cross_entropy"`` (see Rewards) |
    | ``allow_stop`` | ``False`` | add a ``stop`` choice to the action: stop early (see Episode End) |
    | ``glimpse_cost`` | 0.0 | reward ``-c`` for every glimpse after the first (see Rewards) |
    | ``zoom`` | ``None`` | ``(min_width, max_width)`` pixels: add a ``zoom`` to the action (see Choosing the scale) |
    | ``render_mode`` | ``None`` | ``"rgb_array"`` or ``"human"`` |

    ``retina_reduction="max"`` reduces each patch by max pooling (every cell the largest
    pixel it covers) rather than averaging, so thin strokes keep their full strength at
    the coarse scales; it needs an integer ``scale_factor`` and does not take ``zoom``.

    Unknown or invalid keywords raise ``ValueError`` naming them.  ``reset(options=...)``
    takes a dict with ``"index"`` (show that image of the split) and ``"initial_location"``.

    ## Seeding
    On the fixed splits (``"validation"``, ``"test"``; ``N`` images) **the seed names the
    episode**: ``reset(seed=s)`` shows image ``s mod N``, and each ``reset()`` without a
    seed the next image (image 0 first in an env never seeded).  So both
    ``for i in range(N): env.reset(seed=i)`` and ``env.reset(seed=0)`` followed by
    ``N - 1`` plain resets visit the whole split exactly once.  Whatever seed or reset
    leads to an image, its episode is the same: translation, clutter and "random" first
    fixation are fixed by its index.  ``reset(options={"index": i})`` shows image ``i``
    without moving the sequence.

    On ``split="train"`` the seed seeds the env's generator, which draws every episode's
    image, translation, clutter and random first fixation: the same seed gives the same
    episodes.

    ## Vectorized environment
    ``gym.make_vec(id, num_envs=n)`` builds :class:`GlimpseClassificationVectorEnv`,
    which steps all ``n`` episodes with batched numpy (next-step autoreset).  With
    ``reset(seed=s)`` its env ``i`` starts exactly the episode of ``gym.make(id)``
    reset with ``seed=s + i`` (the same observations and rewards for the same actions).
    On ``split="train"`` it goes on to play that env's episodes; on the fixed splits env
    ``i`` shows images ``s + i``, ``s + i + n``, ``s + i + 2n``, ... (mod ``N``), so the
    first ``N`` episodes of the vector env cover the split exactly once, whatever ``s``.

    With ``rollouts_per_image=M`` (training), envs ``jM .. jM + M - 1`` of a vector env
    show the same image with the same translation and clutter and differ only in their
    fixations: M Monte-Carlo samples of the location policy per image, as the strongest
    public re-implementations train.  ``M`` must divide ``num_envs`` and every env must
    reset at once (as fixed-length episodes do).  On the fixed splits the ``n / M`` groups
    take the places of envs: ``reset(seed=s)`` gives group ``j`` images ``s + j``,
    ``s + j + n / M``, ...

    ## Version History
    * v0 (2026-12-07): ``retina_reduction`` added (``"max"``: a max-pooling retina);
      the default ``"mean"`` keeps every earlier result.
    * v0 (2026-12-07): the seed names the episode on the validation and test splits:
      ``reset(seed=s)`` shows image ``s mod N`` (before, every seeded reset went back to
      image 0, so ``for i in range(N): env.reset(seed=i)`` played image 0 ``N`` times),
      and a vector env reset with ``seed=s`` starts env ``i`` at image ``s + i`` (before:
      ``i``, whatever ``s``).  Each image's episode and all training episodes are
      unchanged.  The keywords are spelled out in the constructor's signature; ``zoom``
      needs ``min_width >= 0.01`` pixels; numpy scalars are taken where Python ones are.
    * v0 (2026-12-01): the random first fixation of a test or validation episode is fixed
      by the image index (before, it came from the reset seed, so a score moved with the
      seed); keywords ``rollouts_per_image``, ``initial_location="none"``, ``reward``,
      ``allow_stop``, ``glimpse_cost`` and ``zoom`` added.
      Training episodes are unchanged.
    * v0: initial version.
    """

    task_class = ClassificationTask
    metadata = {"render_modes": RenderModes(["rgb_array", "human"]), "render_fps": 4}

    def __init__(
        self,
        *,
        split: str = "train",
        canvas_size: int = 28,
        n_distractors: int = 0,
        distractor_size: int = 8,
        n_glimpses: int = 6,
        glimpse_size: int = 8,
        n_scales: int = 1,
        scale_factor: float = 2.0,
        initial_location: InitialLocation = "random",
        data_dir: str | os.PathLike | None = None,
        rollouts_per_image: int = 1,
        reward: str = "final",
        allow_stop: bool = False,
        glimpse_cost: float = 0.0,
        zoom: ZoomRange = None,
        retina_reduction: str = "mean",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode, **passed_on(locals()))


class GlimpseClassificationVectorEnv(GlimpseVectorEnv):
    """``n`` episodes of :class:`GlimpseClassificationEnv` stepped together with batched numpy.

    Keywords as :class:`GlimpseClassificationEnv`'s, after ``num_envs``.  Infos are arrays:
    ``info["label"]`` and ``info["index"]`` of shape ``(n,)``.

    Seeding: ``reset(seed=s)`` starts env ``i`` exactly as ``gym.make(id).reset(seed=s + i)``
    starts.  On the fixed splits env ``i`` then shows images ``s + i + n``, ``s + i + 2n``,
    ... (mod ``N``): the whole split once in the first ``N`` episodes.  ``reset(seed=[s_0,
    ..., s_(n-1)])`` starts env ``i`` at image ``s_i`` (``None``: env ``i`` goes on where it
    is).  With ``rollouts_per_image=M`` group ``j`` of the ``n / M`` shows ``s + j``,
    ``s + j + n / M``, ...
    """

    task_class = ClassificationTask

    def __init__(
        self,
        num_envs: int = 1,
        *,
        split: str = "train",
        canvas_size: int = 28,
        n_distractors: int = 0,
        distractor_size: int = 8,
        n_glimpses: int = 6,
        glimpse_size: int = 8,
        n_scales: int = 1,
        scale_factor: float = 2.0,
        initial_location: InitialLocation = "random",
        data_dir: str | os.PathLike | None = None,
        rollouts_per_image: int = 1,
        reward: str = "final",
        allow_stop: bool = False,
        glimpse_cost: float = 0.0,
        zoom: ZoomRange = None,
        retina_reduction: str = "mean",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(num_envs, render_mode, **passed_on(locals()))
