"""Digit canvases of the paper: MNIST, translated MNIST and cluttered translated MNIST.

One builder, :class:`DigitCanvases`, makes every variant (Mnih et al. 2014, sec. 4.1):

* **MNIST** (``canvas_size=28``, no distractors): the digit as given.
* **Translated**: the 28x28 digit pasted at a uniformly random position on a blank
  ``canvas_size`` x ``canvas_size`` canvas.
* **Cluttered**: translated, plus ``n_distractors`` random ``distractor_size`` squared
  sub-patches cut from *other* random digits of the same split and added at uniformly
  random positions; the sum is clipped to ``[0, 1]`` (uint8 ``[0, 255]``).

Randomness comes in as *layouts*: each canvas is described by one row of uniform
numbers in ``[0, 1)`` (``layout_width`` of them), turned into integer positions and
indices by :meth:`DigitCanvases.render`.  Training episodes draw a fresh row from the
environment's generator; the validation and test splits use a fixed table of rows
(one per image, from a fixed seed), so image ``i`` of the test split always has the
same translation and clutter, for every agent.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from ram_env.core import check_positive_int
from ram_env.mnist import SPLITS, load_split

__all__ = ["Canvases", "DigitCanvases", "DIGIT_SIZE"]

DIGIT_SIZE = 28
MAX_CANVAS = 4096  #: widest canvas (a 4096x4096 canvas is already 16 MB per episode)
MAX_DISTRACTORS = 1000  #: most clutter patches per canvas
#: seeds of the fixed layout tables of the fixed splits
_FIXED_SPLIT_SEEDS = {"validation": 2014_0001, "test": 2014_0002}
#: seeds of the fixed first-fixation tables of the fixed splits
_FIXED_FIXATION_SEEDS = {"validation": 2014_0101, "test": 2014_0102}


class Canvases:
    """Renders the images of one split of an image set onto square canvases, in batches.

    The paper's recipe for any image set: the image as given (``canvas_size`` = its size),
    translated to a random position on a larger blank canvas, or translated with
    ``n_distractors`` square crops of *other* images of the split added at random places
    (the sum clipped to the image's range).

    Args:
        images: ``(n, h, w)`` or ``(n, h, w, c)``, uint8 (0..255) or float32 (0..1).
        labels: int64 ``(n,)``, classes ``0 .. n_classes - 1``.
        split: the split's name; ``"validation"`` and ``"test"`` are *fixed* (image ``i``
            always has the same translation, clutter and first fixation).
        canvas_size: side of the square canvas (>= the image's height and width).
        n_distractors: clutter patches per canvas.
        distractor_size: side of each clutter patch (<= the image's height and width).

    Attributes:
        layout_width: number of uniforms describing one canvas.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        split: str,
        canvas_size: int | None = None,
        n_distractors: int = 0,
        distractor_size: int = 8,
        n_classes: int | None = None,
    ) -> None:
        self.images = images
        self._n_classes = n_classes
        self.labels = np.asarray(labels, dtype=np.int64)
        self.split = split
        self.image_shape = (int(images.shape[1]), int(images.shape[2]))
        self.channels = int(images.shape[3]) if images.ndim == 4 else 1
        h, w = self.image_shape
        canvas_size = max(h, w) if canvas_size is None else canvas_size
        check_positive_int("canvas_size", canvas_size, low=max(h, w))
        if canvas_size > MAX_CANVAS:
            raise ValueError(f"canvas_size must be <= {MAX_CANVAS}, got {canvas_size}")
        check_positive_int("n_distractors", n_distractors, low=0)
        if n_distractors > MAX_DISTRACTORS:
            raise ValueError(f"n_distractors must be <= {MAX_DISTRACTORS}, got {n_distractors}")
        check_positive_int("distractor_size", distractor_size, low=1)
        if distractor_size > min(h, w):
            raise ValueError(f"distractor_size must be <= {min(h, w)} (the image's side), got {distractor_size}")
        if n_distractors and len(self.labels) < 2:
            raise ValueError("clutter needs at least 2 images (distractors come from other images)")
        self.canvas_size = int(canvas_size)
        self.n_distractors = int(n_distractors)
        self.distractor_size = int(distractor_size)
        self.fixed = split in _FIXED_SPLIT_SEEDS
        # uniforms per canvas: image index, image row, image col, and per distractor:
        # source image, crop row, crop col, paste row, paste col
        self.layout_width = 3 + 5 * self.n_distractors

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_classes(self) -> int:
        """Classes of the whole image set (a split may lack some)."""
        if self._n_classes is not None:
            return self._n_classes
        return int(self.labels.max()) + 1 if len(self.labels) else 0

    def fixed_layouts(self, indices: np.ndarray) -> np.ndarray:
        """Layout rows of the fixed splits for image ``indices``: float64 ``(n, layout_width)``."""
        if not self.fixed:
            raise ValueError(f"split {self.split!r} has no fixed layouts (it draws a fresh one each episode)")
        return _fixed_table(_FIXED_SPLIT_SEEDS[self.split], len(self), self.layout_width)[np.asarray(indices)]

    def fixed_fixations(self, indices: np.ndarray) -> np.ndarray:
        """Two uniforms per image of the fixed splits, for a random first fixation fixed by the
        image's index (so a test episode is the same for every agent and every seed):
        float64 ``(n, 2)``."""
        if not self.fixed:
            raise ValueError(f"split {self.split!r} has no fixed first fixations")
        return _fixed_table(_FIXED_FIXATION_SEEDS[self.split], len(self), 2)[np.asarray(indices)]

    def offsets(self, layouts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where :meth:`render` pastes the image of each layout: int64 ``(n,)`` top rows and
        ``(n,)`` left columns of its top-left pixel on the canvas."""
        u = np.asarray(layouts, dtype=np.float64)
        h, w = self.image_shape
        return _pick(u[:, 1], self.canvas_size - h + 1), _pick(u[:, 2], self.canvas_size - w + 1)

    def render(self, layouts: np.ndarray, indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Canvases for a batch of layouts.

        Args:
            layouts: float ``(n, layout_width)`` uniforms in ``[0, 1)``.
            indices: int ``(n,)`` image indices; default: chosen by the layouts' first column.

        Returns:
            ``(canvases, indices)``: ``(n, canvas_size, canvas_size)`` (``(..., c)`` for
            colour) of the images' dtype, and the int64 ``(n,)`` index of the image on each.
        """
        u = np.asarray(layouts, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] != self.layout_width:
            raise ValueError(f"layouts must have shape (n, {self.layout_width}), got {u.shape}")
        n = u.shape[0]
        n_images = len(self)
        if indices is None:
            indices = _pick(u[:, 0], n_images)
        else:
            indices = np.asarray(indices, dtype=np.int64)
            if indices.shape != (n,) or (n and (indices.min() < 0 or indices.max() >= n_images)):
                raise ValueError(f"indices must be ({n},) ints in [0, {n_images}), got {indices!r}")
        size = self.canvas_size
        h, w = self.image_shape
        tail = self.images.shape[3:]
        canvas = np.zeros((n, size, size, *tail), dtype=self.images.dtype)
        rows = np.arange(n)[:, None, None]
        top, left = self.offsets(u)
        r = top[:, None] + np.arange(h)
        c = left[:, None] + np.arange(w)
        canvas[rows, r[:, :, None], c[:, None, :]] = self.images[indices]
        d = self.distractor_size
        span = np.arange(d)
        top_value = 255 if self.images.dtype == np.uint8 else 1.0
        for j in range(self.n_distractors):  # a handful of passes, each over the whole batch
            col = 3 + 5 * j
            source = _pick(u[:, col], n_images - 1)
            source += source >= indices  # another image, never the target itself
            cr, cc = _pick(u[:, col + 1], h - d + 1), _pick(u[:, col + 2], w - d + 1)
            pr, pc = _pick(u[:, col + 3], size - d + 1), _pick(u[:, col + 4], size - d + 1)
            patch = self.images[
                source[:, None, None], (cr[:, None] + span)[:, :, None], (cc[:, None] + span)[:, None, :]
            ]
            rr = (pr[:, None] + span)[:, :, None]
            cc2 = (pc[:, None] + span)[:, None, :]
            wide = np.uint16 if self.images.dtype == np.uint8 else np.float32
            summed = canvas[rows, rr, cc2].astype(wide) + patch
            canvas[rows, rr, cc2] = np.minimum(summed, top_value).astype(self.images.dtype)
        return canvas, indices


class DigitCanvases(Canvases):
    """The paper's canvases: :class:`Canvases` of one MNIST split.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        canvas_size: side of the square canvas (>= 28); 28 means no translation.
        n_distractors: clutter patches per canvas (>= 0).
        distractor_size: side of each clutter patch (1..28).
        data_dir: MNIST directory (default: the bundled copy, see :mod:`ram_env.mnist`).

    Attributes:
        images: uint8 ``(n, 28, 28)``, the split's digits.
        labels: int64 ``(n,)``.
        layout_width: number of uniforms describing one canvas.
    """

    def __init__(
        self,
        split: str = "train",
        canvas_size: int = DIGIT_SIZE,
        n_distractors: int = 0,
        distractor_size: int = 8,
        data_dir: str | os.PathLike | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
        check_positive_int("canvas_size", canvas_size, low=DIGIT_SIZE)
        self.data_dir = data_dir
        images, labels = load_split(split, data_dir)
        super().__init__(images, labels, split, canvas_size, n_distractors, distractor_size, n_classes=10)

    def __reduce__(self):
        # pickles as its arguments: the digits are reloaded (and re-verified) on unpickling
        return type(self), (self.split, self.canvas_size, self.n_distractors, self.distractor_size, self.data_dir)

    def __repr__(self) -> str:
        return (
            f"DigitCanvases(split={self.split!r}, canvas_size={self.canvas_size}, "
            f"n_distractors={self.n_distractors}, distractor_size={self.distractor_size})"
        )


def _pick(u: np.ndarray, count: int) -> np.ndarray:
    """Uniform ``[0, 1)`` -> uniform int in ``[0, count)``."""
    return np.minimum((u * count).astype(np.int64), count - 1)


@functools.lru_cache(maxsize=8)
def _fixed_table(seed: int, n: int, width: int) -> np.ndarray:
    table = np.random.default_rng(seed).random((n, width))
    table.flags.writeable = False
    return table
