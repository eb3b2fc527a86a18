"""Glimpse classification of your own images: ``gym.make("RAM-Glimpse-v0", images=X, labels=y)``.

Any image set becomes a task of the paper's kind - the image as given, translated on a
larger canvas, or translated with clutter from other images of the set - seen only
through glimpses.  Images come as arrays or from a file:

* ``images=X, labels=y``: ``X`` ``(N, H, W)`` grey or ``(N, H, W, C)`` colour (``C`` of
  1, 3 or 4), uint8 (0..255) or float (0..1); ``y`` ``(N,)`` integer classes ``0 .. K-1``.
  ``split`` takes a fixed part of them: ``"train"`` the first 80%, ``"validation"`` the
  next 10%, ``"test"`` the last 10% (shuffle first if your arrays are ordered by class).
  To give the splits yourself, pass ``images={"train": X1, "test": X2}`` and
  ``labels={"train": y1, "test": y2}``.
* ``data="set.npz"``: an ``.npz`` holding ``images``/``labels``, or
  ``train_images``/``train_labels`` (and ``validation_``/``test_`` ones); or
  ``data="folder/"``: one sub-folder per class of PNG/JPEG files (classes in sorted
  order; needs Pillow).  A file keeps a trained agent's checkpoint small and reloadable:
  it records the path, not the pixels.

Bad arrays (wrong rank, labels that do not match, NaN, empty) raise ``ValueError`` naming
the problem; ``.npz`` files are read without pickles.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ram_env.classification import (
    ClassificationTask,
    GlimpseClassificationEnv,
    GlimpseClassificationVectorEnv,
    task_options,
)
from ram_env.datasets import Canvases

__all__ = [
    "check_images",
    "load_image_set",
    "split_of",
    "ImageClassificationTask",
    "GlimpseImagesEnv",
    "GlimpseImagesVectorEnv",
]

SPLIT_FRACTIONS = {"train": (0.0, 0.8), "validation": (0.8, 0.9), "test": (0.9, 1.0)}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def check_images(images: Any, labels: Any, where: str = "images") -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` as uint8 or float32 ``(N, H, W[, C])`` and int64 ``(N,)``, checked."""
    x = np.asarray(images)
    y = np.asarray(labels)
    if x.ndim not in (3, 4):
        raise ValueError(f"{where} must be (N, H, W) or (N, H, W, C), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{where} is empty")
    if x.ndim == 4 and x.shape[3] not in (1, 3, 4):
        raise ValueError(f"{where} must have 1, 3 or 4 channels last, got shape {x.shape}")
    if x.ndim == 4 and x.shape[3] == 1:
        x = x[..., 0]
    if min(x.shape[1:3]) < 2:
        raise ValueError(f"{where} must be at least 2x2 pixels, got shape {x.shape}")
    if x.dtype == np.uint8:
        pass
    elif x.dtype.kind == "f":
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{where} contains NaN or inf")
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"float {where} must be in [0, 1], got [{x.min():g}, {x.max():g}] (or pass uint8 0..255)")
        x = x.astype(np.float32)
    elif x.dtype == np.bool_:
        x = x.astype(np.uint8) * 255
    else:
        raise ValueError(f"{where} must be uint8 (0..255) or float (0..1), got dtype {x.dtype}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"labels must have shape ({x.shape[0]},) to match {where}, got {y.shape}")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise ValueError(f"labels must be integer classes, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise ValueError(f"labels must be classes 0 .. K-1, got {y.min()}")
    return x, y


def load_image_set(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{split: (images, labels)}`` from an ``.npz`` file or a folder of class sub-folders
    (``{"all": ...}`` when the file does not name splits)."""
    path = Path(path)
    if path.is_dir():
        return {"all": _load_folder(path)}
    if not path.is_file():
        raise ValueError(f"data {str(path)!r} is neither an .npz file nor a folder of images")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError) as err:
        raise ValueError(f"data {str(path)!r} is not a readable .npz of plain arrays: {err}") from err
    if "images" in arrays and "labels" in arrays:
        return {"all": (arrays["images"], arrays["labels"])}
    splits = {s: (arrays[f"{s}_images"], arrays[f"{s}_labels"]) for s in SPLIT_FRACTIONS if f"{s}_images" in arrays}
    if not splits:
        raise ValueError(
            f"{path} must hold images and labels, or train_images and train_labels, ...; has {sorted(arrays)}"
        )
    return splits


def _load_folder(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        from PIL import Image
    except ImportError as err:
        raise ValueError("reading a folder of images needs Pillow: pip install 'ram-gym[viz]'") from err
    classes = sorted(p for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise ValueError(f"{folder} must hold one sub-folder of images per class")
    images, labels = [], []
    for k, sub in enumerate(classes):
        for file in sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            with Image.open(file) as im:
                images.append(np.asarray(im.convert("RGB" if im.mode not in ("L", "1") else "L")))
            labels.append(k)
    if not images:
        raise ValueError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)}) in its class folders")
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise ValueError(
            f"{folder}: the images differ in size or channels ({sorted(shapes)[:3]}...); resize them first"
        )
    return np.stack(images), np.asarray(labels)


def split_of(images: Any, labels: Any, data: Any, split: str) -> tuple[np.ndarray, np.ndarray, int]:
    """``(images, labels, n_classes)`` of ``split`` from ``images``/``labels`` or ``data``
    (``n_classes`` counts the classes of every split)."""
    if split not in SPLIT_FRACTIONS:
        raise ValueError(f"split must be one of {sorted(SPLIT_FRACTIONS)}, got {split!r}")
    if (data is None) == (images is None):
        raise ValueError("RAM-Glimpse-v0 needs images=X with labels=y, or data='file.npz' / 'folder/' (one of them)")
    if data is not None:
        sets = load_image_set(data)
    elif isinstance(images, Mapping):
        if not isinstance(labels, Mapping) or set(labels) != set(images):
            raise ValueError("images given per split need labels per split with the same keys")
        sets = {k: (images[k], labels[k]) for k in images}
    else:
        if labels is None:
            raise ValueError("images need labels=y (one integer class per image)")
        sets = {"all": (images, labels)}
    if "all" in sets:
        x, y = check_images(*sets["all"])
        lo, hi = (int(round(f * len(y))) for f in SPLIT_FRACTIONS[split])
        if hi <= lo:
            raise ValueError(f"{len(y)} images leave the {split} split empty; give more, or the splits yourself")
        return x[lo:hi], y[lo:hi], int(y.max()) + 1
    if split not in sets:
        raise ValueError(f"no {split} images: the data names {sorted(sets)}")
    checked = {k: check_images(*v, where=f"{k} images") for k, v in sets.items()}
    shapes = {v[0].shape[1:] for v in checked.values()}
    if len(shapes) > 1:
        raise ValueError(f"the splits' images differ in shape: {sorted(shapes)}")
    n_classes = max(int(v[1].max()) + 1 for v in checked.values())
    return (*checked[split], n_classes)


class ImageClassificationTask(ClassificationTask):
    """``N`` glimpse-classification episodes of a user's image set (see :class:`GlimpseImagesEnv`)."""

    def __init__(
        self,
        num_envs: int = 1,
        images: Any = None,
        labels: Any = None,
        data: str | os.PathLike | None = None,
        split: str = "train",
        canvas_size: int | None = None,
        n_distractors: int = 0,
        distractor_size: int | None = None,
        n_glimpses: int = 6,
        glimpse_size: int = 8,
        n_scales: int = 1,
        scale_factor: float = 2.0,
        initial_location: Any = "random",
        rollouts_per_image: int = 1,
        reward: str = "final",
        allow_stop: bool = False,
        glimpse_cost: float = 0.0,
        zoom: tuple[float, float] | None = None,
    ) -> None:
        def make() -> Canvases:
            x, y, n_classes = split_of(images, labels, data, split)
            patch = min(8, *x.shape[1:3]) if distractor_size is None else distractor_size
            return Canvases(x, y, split, canvas_size, n_distractors, patch, n_classes=n_classes)

        self._setup(num_envs, make, **task_options(locals()))


class GlimpseImagesEnv(GlimpseClassificationEnv):
    """Classify your own images through a few foveated glimpses (``RAM-Glimpse-v0``).

    ## Description
    The paper's classification task on any image set: each episode draws an image of the
    split onto a square canvas (as given, translated, or translated with clutter cut from
    other images), and the agent sees it only through glimpses - ``n_scales`` concentric
    patches around the location it chose, the first ``glimpse_size`` pixels wide and each
    next one ``scale_factor`` times wider, all reduced to ``glimpse_size`` x
    ``glimpse_size``.  After ``n_glimpses`` glimpses it names the class.  How to give the
    images: see :mod:`ram_env.images`.

    ## Action Space
    ``Dict(location=Box(-1, 1, (2,)), label=Discrete(K))``, ``K`` the number of classes
    (``reward="cross_entropy"``: ``label`` is ``Box(-10, 10, (K,))`` class scores).

    ## Observation Space
    ``Dict(glimpse=Box(0, 1, shape), location=Box(-1, 1, (2,)))`` with ``shape`` =
    ``(n_scales, glimpse_size, glimpse_size)`` for grey images and
    ``(n_scales, C, glimpse_size, glimpse_size)`` for ``C``-channel (colour) ones: every
    scale of the glimpse in every channel, finest first.

    ## Rewards
    As ``RAM-MNIST-v0`` (the ``reward`` keyword: ``"final"``, ``"dense"`` or ``"cross_entropy"``).

    ## Starting State
    A new canvas from the split (``"train"``: a random image with a fresh translation and
    clutter; ``"validation"``/``"test"``: the next image in order, translation, clutter and
    first fixation fixed by its index) and the first glimpse (``initial_location``).

    ## Episode End
    As ``RAM-MNIST-v0``: ``n_glimpses`` steps, the last one scores the label.

    ## Info
    ``info["label"]`` (the true class, for supervised training only) and ``info["index"]``.

    ## Arguments
    ```python
    import gymnasium as gym
    import ram_env

    env = gym.make("RAM-Glimpse-v0", data="my_images.npz", canvas_size=64, n_distractors=4)
    env = gym.make("RAM-Glimpse-v0", images=X, labels=y, split="test")
    ```

    | keyword | default | meaning |
    |---|---|---|
    | ``images``, ``labels`` | - | arrays (or dicts of arrays per split), see :mod:`ram_env.images` |
    | ``data`` | - | instead: an ``.npz`` file or a folder of class sub-folders |
    | ``split`` | ``"train"`` | ``"train"``, ``"validation"`` or ``"test"`` |
    | ``canvas_size`` | the image's size | side of the canvas (larger: translated) |
    | ``n_distractors`` | 0 | clutter patches per canvas |
    | ``distractor_size`` | ``min(8, image side)`` | side of each clutter patch |
    | ``n_glimpses`` | 6 | glimpses per episode |
    | ``glimpse_size``, ``n_scales``, ``scale_factor`` | 8, 1, 2.0 | the retina |
    | ``initial_location`` | ``"random"`` | ``"random"``, ``"center"``, ``"none"`` or ``(row, col)`` |
    | ``rollouts_per_image`` | 1 | vector env: groups of envs that share an image |
    | ``reward`` | ``"final"`` | ``"final"``, ``"dense"`` or ``"cross_entropy"`` |
    | ``allow_stop``, ``glimpse_cost`` | ``False``, 0.0 | stop early, at a cost per glimpse (as ``RAM-MNIST-v0``) |
    | ``zoom`` | ``None`` | ``(min_width, max_width)``: the agent chooses each glimpse's scale (as ``RAM-MNIST-v0``) |
    | ``render_mode`` | ``None`` | ``"rgb_array"`` or ``"human"`` |

    ## Vectorized environment
    ``gym.make_vec("RAM-Glimpse-v0", num_envs=N, ...)``, batched as the MNIST tasks are.

    ## Version History
    * v0 (2026-12-01): initial version.
    """

    task_class = ImageClassificationTask  # type: ignore[assignment]  # its keywords differ, as they should


class GlimpseImagesVectorEnv(GlimpseClassificationVectorEnv):
    """``N`` episodes of :class:`GlimpseImagesEnv`, stepped together with batched numpy."""

    task_class = ImageClassificationTask  # type: ignore[assignment]  # its keywords differ, as they should
