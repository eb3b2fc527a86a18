"""Glimpse classification of your own images: ``gym.make("RAM-Glimpse-v0", images=X, labels=y)``.

Any image set becomes a task of the paper's kind - the image as given, translated on a
larger canvas, or translated with clutter from other images of the set - seen only
through glimpses.  Images come as arrays or from a file:

* ``images=X, labels=y``: ``X`` ``(N, H, W)`` grey or ``(N, H, W, C)`` colour (``C`` of
  1, 3 or 4), uint8 (0..255) or float (0..1); ``y`` ``(N,)`` integer classes ``0 .. K-1``
  (``K`` at most :data:`MAX_CLASSES`).  ``split`` takes a fixed part of them, per class:
  ``"train"`` the first 80% of each class's images (in the order given), ``"validation"``
  the next 10%, ``"test"`` the last 10% - every class in every split in proportion, the
  same images every time (see :func:`split_indices`).  To give the splits yourself, pass
  ``images={"train": X1, "test": X2}`` and ``labels={"train": y1, "test": y2}``.
* ``data="set.npz"``: an ``.npz`` holding ``images``/``labels``, or
  ``train_images``/``train_labels`` (and ``validation_``/``test_`` ones); or
  ``data="folder/"``: one sub-folder per class of PNG/JPEG files (classes in sorted
  order; needs Pillow).  8-bit files read as uint8; 16-bit PNGs (grey or colour) are read
  at full depth as float32 on the same scale (``v / 65535``, as ``v / 255`` for 8 bits),
  and then the whole set is float32.  A path may be ``str``, ``bytes`` or a
  ``PathLike``, in any encoding the file system takes.  A file keeps a trained agent's
  checkpoint small and reloadable: it records the path, not the pixels.

Bad arrays (wrong rank, labels that do not match, NaN, empty) raise ``ValueError`` naming
the problem; so do bad files (truncated, corrupt, empty, not a regular file such as a
FIFO), naming the file.  ``.npz`` files are read without pickles, and the sizes their
arrays declare are checked before anything is read: at most :data:`MAX_DATA_BYTES` in
all (the environment variable ``RAM_GYM_MAX_DATA_BYTES`` sets another limit), as for the
pixels of a folder.
"""

from __future__ import annotations

import math
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ram_env.classification import (
    ClassificationTask,
    GlimpseClassificationEnv,
    GlimpseClassificationVectorEnv,
    task_options,
)
from ram_env.core import GlimpseEnv, GlimpseVectorEnv, passed_on
from ram_env.datasets import Canvases

__all__ = [
    "MAX_CLASSES",
    "MAX_DATA_BYTES",
    "check_images",
    "load_image_set",
    "split_indices",
    "split_of",
    "ImageClassificationTask",
    "GlimpseImagesEnv",
    "GlimpseImagesVectorEnv",
]

SPLIT_FRACTIONS = {"train": (0.0, 0.8), "validation": (0.8, 0.9), "test": (0.9, 1.0)}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MAX_CLASSES = 65536  #: labels are classes ``0 .. K-1`` with ``K`` at most this
MAX_DATA_BYTES = 2 * 2**30  #: most bytes of pixels and labels a data file or folder may hold
LIMIT_VARIABLE = "RAM_GYM_MAX_DATA_BYTES"  #: the environment variable that overrides MAX_DATA_BYTES
#: what reading a broken file can raise (from Pillow, zipfile, zlib, numpy's .npy reader)
_READ_ERRORS = (OSError, EOFError, SyntaxError, ValueError, TypeError, IndexError, KeyError, struct.error, zlib.error,
                zipfile.BadZipFile, NotImplementedError, RuntimeError)  # fmt: skip


class _Named(ValueError):
    """A fault whose message already names the file and says what is wrong (passed on as it is)."""


class _OverLimit(_Named):
    """Data larger than the limit."""


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
    return x, _check_labels(y)


def _check_labels(y: np.ndarray) -> np.ndarray:
    """Labels as int64 classes ``0 .. K-1``, ``K <= MAX_CLASSES`` (checked before the cast)."""
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise ValueError(f"labels must be integer classes, got dtype {y.dtype}")
    if y.min() < 0:
        raise ValueError(f"labels must be classes 0 .. K-1, got {y.min().item()}")
    if y.max() >= MAX_CLASSES:
        raise ValueError(
            f"labels must be classes 0 .. K-1 with K <= {MAX_CLASSES}, got a label of {y.max().item()} "
            "(number your classes 0, 1, 2, ...)"
        )
    return y.astype(np.int64)


def _shown(path: str | bytes | os.PathLike) -> str:
    """A path for a message: quoted, any byte that is not UTF-8 escaped (printable anywhere)."""
    return repr(os.fsdecode(path))


def _size(n: float) -> str:
    """Bytes for people: ``"1000 B"``, ``"391 KiB"``, ``"3.35 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            break
        n /= 1024
    return f"{n:.0f} {unit}" if n >= 1000 or unit == "B" else f"{n:.3g} {unit}"


def data_limit() -> int:
    """The most bytes a data file or folder may hold: ``$RAM_GYM_MAX_DATA_BYTES`` or :data:`MAX_DATA_BYTES`."""
    text = os.environ.get(LIMIT_VARIABLE)
    if text is None:
        return MAX_DATA_BYTES
    try:
        limit = int(text)
    except ValueError:
        limit = -1
    if limit <= 0:
        raise ValueError(f"the environment variable {LIMIT_VARIABLE} must be a number of bytes > 0, got {text!r}")
    return limit


def _open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading, if it is a regular file: a FIFO, device, socket or folder is
    refused by name (opened without blocking, so a FIFO with no writer cannot hang us)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise _Named(f"{_shown(path)} cannot be read: {err.strerror or err}") from err
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a folder" if stat.S_ISDIR(mode) else "a device or socket"
        raise _Named(f"{_shown(path)} is not a regular file ({kind}); move it out of the data")
    if os.fstat(fd).st_size == 0:
        os.close(fd)
        raise _Named(f"{_shown(path)} is an empty file (0 bytes): nothing to read")
    return os.fdopen(fd, "rb")


def load_image_set(path: str | bytes | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{split: (images, labels)}`` from an ``.npz`` file or a folder of class sub-folders
    (``{"all": ...}`` when the file does not name splits)."""
    try:
        path = Path(os.fsdecode(path))
    except TypeError:
        raise ValueError(f"data must be a path (str, bytes or os.PathLike), got {path!r}") from None
    if path.is_dir():
        return {"all": _load_folder(path)}
    if not path.exists():
        raise ValueError(f"data {_shown(path)} is neither an .npz file nor a folder of images")
    arrays = _read_npz(path)
    if "images" in arrays:
        return {"all": (arrays["images"], arrays["labels"])}
    return {s: (arrays[f"{s}_images"], arrays[f"{s}_labels"]) for s in SPLIT_FRACTIONS if f"{s}_images" in arrays}


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays the package uses from an ``.npz``, their declared sizes checked first."""
    where = f"data {_shown(path)}"
    try:
        with _open_regular(path) as file:
            if file.read(6) == b"\x93NUMPY":
                raise _Named(f"{where} is one .npy array, not an .npz: save images and labels with np.savez")
            file.seek(0)
            return _read_npz_archive(where, zipfile.ZipFile(file))
    except _Named:
        raise
    except _READ_ERRORS as err:
        raise ValueError(f"{where} is not a readable .npz of plain arrays: {err}") from err


def _read_npz_archive(where: str, archive: zipfile.ZipFile) -> dict[str, np.ndarray]:
    """The members the package uses, each declared size checked before any array is read."""
    with archive:
        members = {i.filename[:-4]: i for i in archive.infolist() if i.filename.endswith(".npy")}
        keys = _npz_keys(where, sorted(members))
        declared = {k: _npz_header(where, archive, members[k], k) for k in keys}
        total = sum(nbytes for _, nbytes in declared.values())
        if total > data_limit():
            shapes = ", ".join(f"{k!r} {d}" for k, (d, _) in declared.items())
            raise _OverLimit(
                f"{where}: its arrays declare {_size(total)} in all ({shapes}), over the limit of "
                f"{_size(data_limit())} (the environment variable {LIMIT_VARIABLE} sets another)"
            )
        return {k: _npz_array(where, archive, members[k], k) for k in keys}


def _npz_keys(where: str, names: list[str]) -> list[str]:
    """The members to read: ``images``/``labels``, or the splits' ones."""
    if "images" in names and "labels" in names:
        return ["images", "labels"]
    splits = [s for s in SPLIT_FRACTIONS if f"{s}_images" in names]
    if not splits:
        raise _Named(f"{where} must hold images and labels, or train_images and train_labels, ...; has {names}")
    for s in splits:
        if f"{s}_labels" not in names:
            raise _Named(f"{where} has {s}_images but no {s}_labels")
    return [f"{s}_{kind}" for s in splits for kind in ("images", "labels")]


def _npz_header(where: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str) -> tuple[str, int]:
    """``("(shape) dtype", bytes)`` that member ``key`` declares in its .npy header, checked
    against the limit and against what the member holds - nothing of the array is read."""
    fmt = np.lib.format
    try:
        with archive.open(info) as member:
            version = fmt.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, _, dtype = fmt.read_array_header_2_0(member)
            else:
                raise ValueError(f".npy format version {version} is not supported (1.0 and 2.0 are)")
            offset = member.tell()
    except _READ_ERRORS as err:
        raise _Named(f"{where}: member {key!r} has no readable .npy header (truncated or corrupt): {err}") from err
    if dtype.hasobject:
        raise _Named(
            f"{where} is not a readable .npz of plain arrays: member {key!r} holds Python objects "
            f"(dtype {dtype}), which would need a pickle - refused (save plain numeric arrays)"
        )
    nbytes = math.prod(shape) * dtype.itemsize
    shown = f"{tuple(shape)} {dtype}"
    if nbytes > data_limit():
        raise _OverLimit(
            f"{where}: member {key!r} declares a {shown} array of {_size(nbytes)}, over the limit of "
            f"{_size(data_limit())} (the environment variable {LIMIT_VARIABLE} sets another)"
        )
    holds = info.file_size - offset
    if nbytes > holds:
        raise _Named(
            f"{where}: member {key!r} declares {_size(nbytes)} ({shown}) but holds only {_size(holds)}: "
            "the file is truncated or corrupt"
        )
    return shown, nbytes


def _npz_array(where: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str) -> np.ndarray:
    try:
        with archive.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except _READ_ERRORS as err:
        raise _Named(f"{where}: member {key!r} cannot be read (truncated or corrupt): {err}") from err


def _load_folder(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        import PIL  # noqa: F401
    except ImportError as err:
        raise ValueError("reading a folder of images needs Pillow: pip install 'ram-gym[viz]'") from err
    try:
        classes = sorted(p for p in folder.iterdir() if p.is_dir())
        files = [(k, f) for k, sub in enumerate(classes) for f in sorted(sub.iterdir()) if _is_image_name(f)]
    except OSError as err:
        raise ValueError(f"data {_shown(folder)} cannot be listed: {err}") from err
    if not classes:
        raise ValueError(f"data {_shown(folder)} must hold one sub-folder of images per class")
    if not files:
        raise ValueError(f"data {_shown(folder)}: no image files ({', '.join(IMAGE_SUFFIXES)}) in its class folders")
    limit, used = data_limit(), 0
    images: list[np.ndarray] = []
    for _, file in files:
        image = _read_image(file, folder, used, limit)
        if images and image.shape != images[0].shape:
            raise ValueError(
                f"data {_shown(folder)}: {_shown(file)} is {image.shape}, unlike {_shown(files[0][1])}'s "
                f"{images[0].shape}; the images must share one size and number of channels (resize them first)"
            )
        used += image.nbytes
        images.append(image)
    if any(im.dtype == np.float32 for im in images):  # a 16-bit file: every image on the float scale
        _check_total(folder, sum(im.size for im in images) * 4, limit, files[-1][1])
        images = [im if im.dtype == np.float32 else im.astype(np.float32) / 255 for im in images]
    return np.stack(images), np.asarray([k for k, _ in files])


def _is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _check_total(folder: Path, nbytes: int, limit: int, file: Path) -> None:
    if nbytes > limit:
        raise _OverLimit(
            f"data {_shown(folder)}: its images take {_size(nbytes)} (up to {_shown(file)}), over the limit of "
            f"{_size(limit)} (the environment variable {LIMIT_VARIABLE} sets another)"
        )


def _read_image(file: Path, folder: Path, used: int, limit: int) -> np.ndarray:
    """One image file: uint8 ``(H, W)`` / ``(H, W, 3)`` for 8 bits, float32 on the same scale
    (``v / 65535``) for 16; ``ValueError`` naming the file when it is broken, or when it
    would take the folder's images (``used`` bytes so far) over ``limit``."""
    from PIL import Image

    with _open_regular(file) as handle:
        try:
            png = _png_header(handle.read(29))
            handle.seek(0)
            if png is not None and png[2] == 16:  # Pillow reads 16-bit colour at 8 bits: decoded here
                width, height, _, colour = png[:4]
                _check_total(folder, used + width * height * (1 if colour == 0 else 3) * 4, limit, file)
                _check_total(folder, os.fstat(handle.fileno()).st_size, limit, file)  # the file itself
                return _grey_or_rgb(_decode_png16(handle.read())).astype(np.float32) / np.float32(65535)
            with Image.open(handle) as im:
                deep = im.mode.startswith("I;16")
                if im.mode in ("I", "F"):
                    raise ValueError(f"{im.mode!r} (32-bit) images are not supported; save it as an 8- or 16-bit PNG")
                bands = 1 if deep or im.mode in ("L", "1") else 3
                _check_total(folder, used + im.width * im.height * bands * (4 if deep else 1), limit, file)
                if deep:
                    return np.asarray(im, dtype=np.uint16).astype(np.float32) / np.float32(65535)
                return np.asarray(im.convert("L" if bands == 1 else "RGB"))
        except _Named:
            raise
        except Image.UnidentifiedImageError as err:
            raise ValueError(
                f"{_shown(file)} is not an image Pillow can read (corrupt, cut short or another format)"
            ) from err
        except (*_READ_ERRORS, Image.DecompressionBombError) as err:
            raise ValueError(f"{_shown(file)} is not a readable image (truncated or corrupt?): {err}") from err


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  #: colour type -> samples per pixel
#: Adam7 interlacing: (first column, first row, column step, row step) of each pass
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _png_header(head: bytes) -> tuple[int, ...] | None:
    """``(width, height, bit depth, colour type, compression, filter, interlace)`` of a PNG's
    IHDR, or ``None`` when ``head`` does not start a PNG."""
    if len(head) < 29 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">IIBBBBB", head[16:29])


def _decode_png16(data: bytes) -> np.ndarray:
    """A 16-bit PNG at full depth: uint16 ``(H, W, samples)`` (Pillow keeps only 8 bits of colour)."""
    header = _png_header(data)
    if header is None:
        raise ValueError("it is not a PNG")
    width, height, _, colour, compression, method, interlace = header
    if colour not in _PNG_CHANNELS or compression or method or interlace > 1 or not (width and height):
        raise ValueError(f"its PNG header is invalid (colour type {colour}, interlace {interlace})")
    bpp = 2 * _PNG_CHANNELS[colour]
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    sizes = [(-(-(height - y0) // dy), -(-(width - x0) // dx)) for x0, y0, dx, dy in passes]
    expected = sum(rows * (1 + cols * bpp) for rows, cols in sizes if rows and cols)
    inflater = zlib.decompressobj()
    raw = inflater.decompress(_png_image_data(data), expected)
    if len(raw) < expected:
        raise ValueError(f"its image data ends early ({len(raw)} of {expected} bytes): truncated or corrupt")
    flat = np.frombuffer(raw, np.uint8)
    out = np.empty((height, width, bpp), np.uint8)
    start = 0
    for (x0, y0, dx, dy), (rows, cols) in zip(passes, sizes, strict=True):
        if rows and cols:
            end = start + rows * (1 + cols * bpp)
            out[y0::dy, x0::dx] = _unfilter(flat[start:end].reshape(rows, 1 + cols * bpp), bpp)
            start = end
    pairs = out.reshape(height, width, bpp // 2, 2).astype(np.uint16)
    return (pairs[..., 0] << 8) | pairs[..., 1]


def _png_image_data(data: bytes) -> bytes:
    """The PNG's IDAT chunks joined, every chunk's CRC checked, up to IEND."""
    position, parts = 8, []
    while True:
        if position + 12 > len(data):
            raise ValueError("it ends before its IEND chunk: truncated")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        crc = data[position + 8 + length : position + 12 + length]
        if len(crc) < 4:
            raise ValueError(f"it ends inside its {kind.decode('latin-1')} chunk: truncated")
        if zlib.crc32(kind + body) != int.from_bytes(crc, "big"):
            raise ValueError(f"its {kind.decode('latin-1')} chunk is corrupt (CRC mismatch)")
        if kind == b"IEND":
            break
        if kind == b"IDAT":
            parts.append(body)
        position += 12 + length
    if not parts:
        raise ValueError("it has no image data (IDAT chunk)")
    return b"".join(parts)


def _unfilter(lines: np.ndarray, bpp: int) -> np.ndarray:
    """PNG scanlines ``(rows, 1 + cols * bpp)`` (a filter byte each) -> bytes ``(rows, cols, bpp)``.

    A byte depends on its left, upper and upper-left neighbours, so the image is rebuilt
    one anti-diagonal of pixels at a time, each diagonal in one batch of numpy operations."""
    rows = lines.shape[0]
    cols = (lines.shape[1] - 1) // bpp
    kinds = lines[:, 0].astype(np.intp)
    if kinds.max() > 4:
        raise ValueError(f"a row has the unknown filter type {kinds.max()}: corrupt")
    data = lines[:, 1:].reshape(rows, cols, bpp)
    out = np.zeros((rows + 1, cols + 1, bpp), np.uint8)  # a row and a column of zeros before the image
    for diagonal in range(rows + cols - 1):
        r = np.arange(max(0, diagonal - cols + 1), min(rows, diagonal + 1))
        c = diagonal - r
        left, up, corner = (out[i, j].astype(np.int16) for i, j in ((r + 1, c), (r, c + 1), (r, c)))
        p = left + up - corner
        pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - corner)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, corner))
        predicted = np.choose(kinds[r][:, None], (np.zeros_like(left), left, up, (left + up) >> 1, paeth))
        out[r + 1, c + 1] = (data[r, c] + predicted) & 255
    return out[1:, 1:]


def _grey_or_rgb(samples: np.ndarray) -> np.ndarray:
    """Decoded samples as the 8-bit loader shapes them: grey ``(H, W)``, else ``(H, W, 3)``
    (grey with alpha as three equal channels, alpha dropped)."""
    count = samples.shape[2]
    if count == 1:
        return samples[..., 0]
    if count == 2:
        return np.repeat(samples[..., :1], 3, axis=2)
    return samples[..., :3]


def split_indices(labels: Any, split: str) -> np.ndarray:
    """Where ``split``'s images are among a whole set's ``labels``: int64, increasing.

    Stratified and deterministic: each class's images (in the order given) are ranked
    ``0 .. n_k - 1`` and placed at ``(rank + 0.5) / n_k`` along the set; ``"train"`` takes
    the first 80% of that order, ``"validation"`` the next 10%, ``"test"`` the last 10%,
    so every class is in every split in proportion (ties go to the earlier image)."""
    y = np.asarray(labels)
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    by_class = np.argsort(inverse, kind="stable")
    rank = np.empty(len(y), np.int64)
    rank[by_class] = np.arange(len(y)) - np.repeat(np.cumsum(counts) - counts, counts)
    order = np.argsort((rank + 0.5) / counts[inverse], kind="stable")
    lo, hi = (int(round(f * len(y))) for f in SPLIT_FRACTIONS[split])
    return np.sort(order[lo:hi])


def split_of(images: Any, labels: Any, data: Any, split: str) -> tuple[np.ndarray, np.ndarray, int]:
    """``(images, labels, n_classes)`` of ``split`` from ``images``/``labels`` or ``data``
    (``n_classes`` counts the classes of every split); a fault of the arrays read from ``data``
    names the file."""
    if split not in SPLIT_FRACTIONS:
        raise ValueError(f"split must be one of {sorted(SPLIT_FRACTIONS)}, got {split!r}")
    if (data is None) == (images is None):
        raise ValueError("RAM-Glimpse-v0 needs images=X with labels=y, or data='file.npz' / 'folder/' (one of them)")
    if data is None:
        return _split_of_sets(_given_sets(images, labels), split)
    sets = load_image_set(data)  # a file that cannot be read names itself
    try:
        return _split_of_sets(sets, split)
    except ValueError as err:  # its arrays are read, but unfit: name the file they came from
        raise ValueError(f"{_printable(data)}: {err}") from None


def _printable(data: Any) -> str:
    """The ``data`` argument as an error names it (non-UTF-8 bytes escaped, as the file's own errors)."""
    where = os.fsdecode(os.fspath(data)) if isinstance(data, (str, bytes, os.PathLike)) else repr(data)
    return where.encode("utf-8", "backslashreplace").decode("utf-8")


def _given_sets(images: Any, labels: Any) -> dict[str, tuple[Any, Any]]:
    """``{split: (images, labels)}`` of arrays given in Python (``{"all": ...}`` without splits)."""
    if isinstance(images, Mapping):
        if not isinstance(labels, Mapping) or set(labels) != set(images):
            raise ValueError("images given per split need labels per split with the same keys")
        return {k: (images[k], labels[k]) for k in images}
    if labels is None:
        raise ValueError("images need labels=y (one integer class per image)")
    return {"all": (images, labels)}


def _split_of_sets(sets: dict[str, tuple[Any, Any]], split: str) -> tuple[np.ndarray, np.ndarray, int]:
    """``(images, labels, n_classes)`` of ``split`` from checked ``sets`` (split per class when
    they name no splits)."""
    if "all" in sets:
        x, y = check_images(*sets["all"])
        index = split_indices(y, split)
        if not len(index):
            raise ValueError(f"{len(y)} images leave the {split} split empty; give more, or the splits yourself")
        return x[index], y[index], int(y.max()) + 1
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
        data: str | bytes | os.PathLike | None = None,
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
        retina_reduction: str = "mean",
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

    ## Images and labels
    Labels are the classes ``0 .. K-1`` themselves, ``K`` at most 65536
    (:data:`MAX_CLASSES`): the ``label`` action and ``info["label"]`` are these numbers, so
    they are *not* remapped - a label outside ``[0, 65536)`` (such as ``2**62``) raises
    ``ValueError``; number sparse classes ``0, 1, 2, ...`` first.  A set the package
    splits (arrays, or a file without named splits) is split per class: each class's first
    80% of images (in the order given) train, the next 10% validation, the last 10% test,
    the same every time (:func:`split_indices`).  16-bit PNGs are read at full depth, as
    float32 on the 8-bit scale.  Files are checked before they are read: a non-regular
    file (a FIFO) is refused, the sizes an ``.npz`` declares must stay within
    :data:`MAX_DATA_BYTES` (or ``$RAM_GYM_MAX_DATA_BYTES``), and a broken file raises
    ``ValueError`` naming it.

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
    | ``retina_reduction`` | ``"mean"`` | ``"mean"`` (area averaging) or ``"max"`` (max pooling), as ``RAM-MNIST-v0`` |
    | ``initial_location`` | ``"random"`` | ``"random"``, ``"center"``, ``"none"`` or ``(row, col)`` |
    | ``rollouts_per_image`` | 1 | vector env: groups of envs that share an image |
    | ``reward`` | ``"final"`` | ``"final"``, ``"dense"`` or ``"cross_entropy"`` |
    | ``allow_stop``, ``glimpse_cost`` | ``False``, 0.0 | stop early, at a cost per glimpse (as ``RAM-MNIST-v0``) |
    | ``zoom`` | ``None`` | ``(min_width, max_width)``: the agent chooses each glimpse's scale (as ``RAM-MNIST-v0``) |
    | ``render_mode`` | ``None`` | ``"rgb_array"`` or ``"human"`` |

    ## Vectorized environment
    ``gym.make_vec("RAM-Glimpse-v0", num_envs=N, ...)``, batched as the MNIST tasks are.

    ## Seeding
    On the validation and test splits the seed names the episode: ``reset(seed=s)`` plays image
    ``s mod N`` of the split, each unseeded ``reset()`` the next one, so ``for i in range(N):
    env.reset(seed=i)`` visits the split once.  In a vector env of ``n``, ``reset(seed=s)``
    gives env ``i`` images ``s + i, s + i + n, ...``.  On the training split the seed seeds
    the generators (a fresh image, translation and clutter every episode).

    ## Version History
    * v0 (2026-12-07): ``retina_reduction`` added (``"max"``: a max-pooling retina);
      the default ``"mean"`` keeps every earlier result.
    * v0 (2026-12-07): the seed names the episode on the fixed splits (``reset(seed=i)`` plays
      image ``i``; before, every seeded reset started at image 0); the splits are drawn per class;
      the keywords are spelled out in the signature.
    * v0 (2026-12-01): initial version.
    """

    task_class = ImageClassificationTask  # type: ignore[assignment]  # its keywords differ, as they should

    def __init__(  # the keywords of RAM-Glimpse-v0, not of the MNIST tasks
        self,
        *,
        images: Any = None,
        labels: Any = None,
        data: str | bytes | os.PathLike | None = None,
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
        retina_reduction: str = "mean",
        render_mode: str | None = None,
    ) -> None:
        GlimpseEnv.__init__(self, render_mode, **passed_on(locals()))


class GlimpseImagesVectorEnv(GlimpseClassificationVectorEnv):
    """``N`` episodes of :class:`GlimpseImagesEnv`, stepped together with batched numpy."""

    task_class = ImageClassificationTask  # type: ignore[assignment]  # its keywords differ, as they should

    def __init__(  # the keywords of RAM-Glimpse-v0, not of the MNIST tasks
        self,
        num_envs: int = 1,
        *,
        images: Any = None,
        labels: Any = None,
        data: str | bytes | os.PathLike | None = None,
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
        retina_reduction: str = "mean",
        render_mode: str | None = None,
    ) -> None:
        GlimpseVectorEnv.__init__(self, num_envs, render_mode, **passed_on(locals()))
