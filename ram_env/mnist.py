"""MNIST, bundled with the package and verified by SHA-256 on load.

The four original idx files (LeCun, Cortes, Burges; CC BY-SA 3.0) ship in
``ram_env/data/mnist/``.  Set ``RAM_GYM_MNIST_DIR`` (or pass ``data_dir``) to read
another copy with the same file names; it is verified against the same hashes.

Splits used throughout ram-gym:

=============  ===================  ======
split          source               images
=============  ===================  ======
``train``      training file 0-54999  55,000
``validation`` training file 55000-   5,000
``test``       t10k file              10,000
=============  ===================  ======
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

__all__ = ["MNIST_SHA256", "SPLITS", "MnistDataError", "data_directory", "load_mnist", "load_split"]

#: expected SHA-256 of each file
MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
    "train-labels-idx1-ubyte.gz": "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
    "t10k-images-idx3-ubyte.gz": "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
    "t10k-labels-idx1-ubyte.gz": "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
}

#: split name -> (file prefix, first index, end index)
SPLITS: dict[str, tuple[str, int, int]] = {
    "train": ("train", 0, 55_000),
    "validation": ("train", 55_000, 60_000),
    "test": ("t10k", 0, 10_000),
}

#: expected size in bytes of each file (checked before anything is read)
MNIST_SIZES: dict[str, int] = {
    "train-images-idx3-ubyte.gz": 9_719_438,
    "train-labels-idx1-ubyte.gz": 28_857,
    "t10k-images-idx3-ubyte.gz": 1_616_508,
    "t10k-labels-idx1-ubyte.gz": 4_517,
}

ENV_VAR = "RAM_GYM_MNIST_DIR"


class MnistDataError(RuntimeError):
    """A bundled or user-supplied MNIST file is missing, corrupt or malformed."""


def data_directory(data_dir: str | os.PathLike | None = None) -> Path:
    """Where MNIST is read from: ``data_dir``, else ``$RAM_GYM_MNIST_DIR``, else the package data."""
    if data_dir is None:
        data_dir = os.environ.get(ENV_VAR) or Path(__file__).parent / "data" / "mnist"
    return Path(data_dir)


def _read_verified(path: Path) -> bytes:
    name = path.name
    if not path.is_file():
        raise MnistDataError(
            f"MNIST file missing: {path} (expected SHA-256 {MNIST_SHA256[name]}); "
            f"reinstall ram-gym or point {ENV_VAR} at a directory holding the four idx .gz files"
        )
    size = path.stat().st_size
    if size != MNIST_SIZES[name]:  # checked first: a huge wrong file is never read
        raise MnistDataError(
            f"MNIST file corrupt: {path} has {size:,} bytes, expected {MNIST_SIZES[name]:,} "
            f"(SHA-256 {MNIST_SHA256[name]})"
        )
    sha = hashlib.sha256()
    chunks = []
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha.update(chunk)
            chunks.append(chunk)
    raw = b"".join(chunks)
    digest = sha.hexdigest()
    if digest != MNIST_SHA256[name]:
        raise MnistDataError(f"MNIST file corrupt: {path} has SHA-256 {digest}, expected {MNIST_SHA256[name]}")
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as err:  # pragma: no cover - hash check catches this first
        raise MnistDataError(f"MNIST file {path} is not valid gzip: {err}") from err


def _parse_idx(data: bytes, path: Path, ndim: int) -> np.ndarray:
    magic = int.from_bytes(data[:4], "big")
    if magic != 0x0800 + ndim:
        raise MnistDataError(f"{path}: bad idx magic number {magic:#x}, expected {0x0800 + ndim:#x}")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    if len(data) - offset != int(np.prod(dims)):
        raise MnistDataError(f"{path}: header says {dims} but holds {len(data) - offset} bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


@functools.lru_cache(maxsize=4)
def _load_cached(prefix: str, directory: Path) -> tuple[np.ndarray, np.ndarray]:
    img_path = directory / f"{prefix}-images-idx3-ubyte.gz"
    lbl_path = directory / f"{prefix}-labels-idx1-ubyte.gz"
    images = _parse_idx(_read_verified(img_path), img_path, 3)
    labels = _parse_idx(_read_verified(lbl_path), lbl_path, 1)
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise MnistDataError(f"{directory}: {images.shape} images do not match {labels.shape} labels")
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_mnist(part: str = "train", data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One MNIST file pair.

    Args:
        part: ``"train"`` (60,000 images) or ``"t10k"`` (10,000).
        data_dir: directory with the idx files (default: see :func:`data_directory`).

    Returns:
        ``(images, labels)``: read-only uint8 ``(n, 28, 28)`` and uint8 ``(n,)``.

    Raises:
        MnistDataError: a file is missing, fails its SHA-256 check or is malformed.
    """
    if part not in ("train", "t10k"):
        raise ValueError(f"part must be 'train' or 't10k', got {part!r}")
    return _load_cached(part, data_directory(data_dir).resolve())


def load_split(split: str, data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of a split: ``"train"``, ``"validation"`` or ``"test"`` (see module doc)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    prefix, lo, hi = SPLITS[split]
    images, labels = load_mnist(prefix, data_dir)
    return images[lo:hi], labels[lo:hi]
