"""RAM-Glimpse-v0's loaders under hostile or unusual input: splits per class, 16-bit PNGs,
FIFOs, size bombs, huge labels, non-UTF-8 paths and corrupt files."""

from __future__ import annotations

import ast
import io
import os
import re
import struct
import threading
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from PIL import Image

import ram_env
from ram_env import images as own

ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def png16(path: Path, pixels: np.ndarray, interlace: bool = False) -> Path:
    """Write uint16 ``(h, w)`` or ``(h, w, c)`` (c of 2, 3, 4) as a 16-bit PNG whose rows use
    every PNG filter in turn (Pillow cannot write 16-bit colour)."""
    pixels = np.asarray(pixels, np.uint16)
    h, w = pixels.shape[:2]
    c = 1 if pixels.ndim == 2 else pixels.shape[2]
    bpp = 2 * c

    def scanlines(sub: np.ndarray) -> bytes:
        raw = np.ascontiguousarray(sub).astype(">u2").view(np.uint8).reshape(sub.shape[0], -1).astype(np.int64)
        out, prev = [], np.zeros(raw.shape[1], np.int64)
        for r, line in enumerate(raw):
            a = np.concatenate([np.zeros(bpp, np.int64), line[:-bpp]])
            up_left = np.concatenate([np.zeros(bpp, np.int64), prev[:-bpp]])
            p = a + prev - up_left
            pa, pb, pc = abs(p - a), abs(p - prev), abs(p - up_left)
            paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, prev, up_left))
            kind = r % 5
            predicted = [0 * a, a, prev, (a + prev) // 2, paeth][kind]
            out.append(bytes([kind]) + ((line - predicted) % 256).astype(np.uint8).tobytes())
            prev = line
        return b"".join(out)

    if interlace:
        passes = (pixels[y0::dy, x0::dx] for x0, y0, dx, dy in ADAM7)
        data = b"".join(scanlines(sub) for sub in passes if sub.size)
    else:
        data = scanlines(pixels)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", w, h, 16, {1: 0, 2: 4, 3: 2, 4: 6}[c], 0, 0, int(interlace))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b"")
    )
    return path


def class_folder(root: Path, counts: list[int], seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for k, n in enumerate(counts):
        (root / f"class{k}").mkdir(parents=True)
        for j in range(n):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(root / f"class{k}" / f"{j}.png")
    return root


def counts_of(data, split: str, k: int) -> list[int]:
    _, labels, _ = own.split_of(None, None, data, split)
    return np.bincount(labels, minlength=k).tolist()


# 1. splits ---------------------------------------------------------------------------------


def test_a_folder_is_split_per_class_the_same_way_every_time(tmp_path):
    folder = class_folder(tmp_path / "three", [30, 30, 30])
    assert counts_of(folder, "train", 3) == [24, 24, 24]
    assert counts_of(folder, "validation", 3) == [3, 3, 3]
    assert counts_of(folder, "test", 3) == [3, 3, 3]
    first = own.split_of(None, None, folder, "test")
    again = own.split_of(None, None, folder, "test")
    np.testing.assert_array_equal(first[0], again[0])
    uneven = class_folder(tmp_path / "uneven", [50, 30, 20])
    assert counts_of(uneven, "test", 3) == [5, 3, 2] and counts_of(uneven, "validation", 3) == [5, 3, 2]
    env = gym.make("RAM-Glimpse-v0", data=folder, split="validation")
    assert np.bincount(ram_env.image_dataset(env).labels).tolist() == [3, 3, 3]


def test_arrays_and_npz_ordered_by_class_are_split_per_class_and_the_splits_partition_them(tmp_path):
    x = np.arange(90 * 4 * 4, dtype=np.float64).reshape(90, 4, 4) % 251
    x = x.astype(np.uint8)
    y = np.repeat(np.arange(3), 30)
    np.savez(tmp_path / "ordered.npz", images=x, labels=y)
    seen = []
    for split, want in (("train", [24] * 3), ("validation", [3] * 3), ("test", [3] * 3)):
        images, labels, n_classes = own.split_of(x, y, None, split)
        assert np.bincount(labels, minlength=3).tolist() == want and n_classes == 3
        assert counts_of(tmp_path / "ordered.npz", split, 3) == want
        index = own.split_indices(y, split)
        np.testing.assert_array_equal(images, x[index])
        assert (np.diff(index) > 0).all()  # the split keeps the given order
        seen.append(index)
    np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.arange(90))


# 2. 16-bit PNGs ----------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("interlace", [False, True])
def test_16_bit_pngs_keep_their_depth_on_the_8_bit_scale(tmp_path, channels, interlace):
    rng = np.random.default_rng(channels)
    shape = (13, 11) if channels == 1 else (13, 11, channels)
    pixels = rng.integers(0, 65536, shape).astype(np.uint16)
    pixels.flat[:4] = [0, 1, 65534, 65535]
    (tmp_path / "c" / "a").mkdir(parents=True)
    path = png16(tmp_path / "c" / "a" / "deep.png", pixels, interlace)
    with Image.open(path) as im:  # the file is a PNG Pillow reads (at 8 bits for colour)
        eight = np.asarray(im)
    if channels == 1:
        np.testing.assert_array_equal(eight, pixels)
    elif channels == 2:  # Pillow: grey, grey, grey, alpha
        np.testing.assert_array_equal(eight[..., [0, 3]], pixels >> 8)
    else:
        np.testing.assert_array_equal(eight, pixels >> 8)
    images, labels = own.load_image_set(tmp_path / "c")["all"]
    assert images.dtype == np.float32 and labels.tolist() == [0]
    want = pixels / 65535.0
    if channels == 2:  # grey with alpha reads as colour, as an 8-bit one does
        want = np.repeat(want[..., :1], 3, axis=2)
    elif channels == 4:
        want = want[..., :3]
    np.testing.assert_allclose(images[0], want, atol=1e-7)


def test_8_and_16_bit_pngs_of_the_same_picture_read_the_same(tmp_path):
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    colour = np.stack([grey, 255 - grey, grey // 2], axis=2)
    for k, (eight, sixteen) in enumerate(
        [(grey, grey.astype(np.uint16) * 257), (colour, colour.astype(np.uint16) * 257)]
    ):
        root = tmp_path / f"set{k}"
        (root / "a").mkdir(parents=True)
        (root / "b").mkdir()
        Image.fromarray(eight).save(root / "a" / "8.png")
        if k == 0:
            Image.fromarray(sixteen).save(root / "b" / "16.png")  # Pillow writes 16-bit grey itself
        else:
            png16(root / "b" / "16.png", sixteen)
        images, labels = own.load_image_set(root)["all"]
        assert images.dtype == np.float32 and labels.tolist() == [0, 1]
        np.testing.assert_allclose(images[0], eight / 255.0, atol=1e-7)
        np.testing.assert_allclose(images[1], images[0], atol=1e-7)
        assert (images[1] < 1).any()  # not clipped to white


# 3. FIFOs and other non-regular files ------------------------------------------------------


def run_briefly(fn, timeout: float = 20.0):
    """``fn()``'s outcome (value or exception) in a thread; fails if it blocks."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - handed to the test
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    return thread.is_alive(), outcome


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("where", ["folder", "npz"])
def test_a_fifo_is_refused_by_name_without_hanging(tmp_path, where):
    if where == "folder":
        folder = class_folder(tmp_path / "set", [2, 2])
        fifo = folder / "class1" / "7.png"
        data = folder
    else:
        fifo = data = tmp_path / "set.npz"
    os.mkfifo(fifo)
    hung, outcome = run_briefly(lambda: own.load_image_set(data))
    if hung:  # let the blocked reader go before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not hung, f"reading {fifo} blocked"
    err = outcome.get("error")
    assert isinstance(err, ValueError), outcome
    assert re.search(re.escape(repr(str(fifo))) + ".*not a regular file", str(err)), err


def test_a_folder_named_like_an_image_is_refused_by_name(tmp_path):
    folder = class_folder(tmp_path / "set", [2, 2])
    (folder / "class0" / "odd.png").mkdir()
    with pytest.raises(ValueError, match=r"odd\.png'.*not a regular file"):
        own.load_image_set(folder)


# 4. size bombs -----------------------------------------------------------------------------


def npz_declaring(path: Path, shape: tuple, descr: str = "|u1", payload: bytes = b"\0" * 64) -> Path:
    """An .npz whose ``images`` member declares ``shape`` but holds only ``payload``."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
    labels = io.BytesIO()
    np.save(labels, np.zeros(4, np.int64))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("images.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + payload)
        zf.writestr("labels.npy", labels.getvalue())
    return path


@pytest.mark.parametrize(("shape", "size"), [((100_000, 100_000, 10), "93.1 GiB"), ((1200, 1000, 1000, 3), "3.35 GiB")])
def test_declared_sizes_are_checked_before_anything_is_allocated(tmp_path, shape, size):
    path = npz_declaring(tmp_path / "bomb.npz", shape)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as caught:
            own.load_image_set(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert repr(str(path)) in message and "'images'" in message and size in message, message
    assert re.search(r"limit of 2 GiB", message), message
    assert peak < 50_000_000


def test_the_size_limit_applies_to_real_arrays_and_can_be_raised(tmp_path, monkeypatch):
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, images=np.zeros((40, 100, 100), np.uint8), labels=np.arange(40) % 2)
    assert path.stat().st_size < 50_000  # 400 kB of pixels in a few kB
    monkeypatch.setenv("RAM_GYM_MAX_DATA_BYTES", "100000")
    with pytest.raises(ValueError, match=r"'images'.*\(40, 100, 100\) uint8.*391 KiB.*limit of 97.7 KiB"):
        gym.make("RAM-Glimpse-v0", data=path)
    monkeypatch.setenv("RAM_GYM_MAX_DATA_BYTES", "1000000")
    assert len(ram_env.image_dataset(gym.make("RAM-Glimpse-v0", data=path))) == 32
    folder = class_folder(tmp_path / "pngs", [10, 10])
    monkeypatch.setenv("RAM_GYM_MAX_DATA_BYTES", "1000")  # 20 8x8 images: 1280 bytes
    with pytest.raises(ValueError, match=r"pngs'.*limit of 1000 B"):
        own.load_image_set(folder)
    monkeypatch.setenv("RAM_GYM_MAX_DATA_BYTES", "lots")
    with pytest.raises(ValueError, match="RAM_GYM_MAX_DATA_BYTES"):
        own.load_image_set(path)


def test_a_member_that_holds_less_than_it_declares_is_refused_before_reading(tmp_path):
    path = npz_declaring(tmp_path / "short.npz", (10, 8, 8))
    with pytest.raises(ValueError, match=r"short\.npz'.*'images'.*declares 640 B.*holds only 64 B"):
        own.load_image_set(path)


# 5. labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        np.array([0, 1, 2, 3, 2**62]),
        np.array([0, 1, 2, 3, 2**63 + 5], dtype=np.uint64),
        np.array([0.0, 1, 2, 3, 1e30]),
        np.array([0.0, 1, 2, 3, np.inf]),
        np.array([0, 1, 2, 3, 65536]),
    ],
)
def test_labels_beyond_the_class_limit_are_refused(labels):
    with pytest.raises(ValueError, match=r"labels must be classes 0 \.\. K-1 with K <= 65536, got a label of"):
        gym.make("RAM-Glimpse-v0", images=np.zeros((5, 8, 8), np.uint8), labels=labels)


def test_the_largest_class_label_is_accepted():
    env = gym.make("RAM-Glimpse-v0", images=np.zeros((5, 8, 8), np.uint8), labels=[0, 1, 2, 3, 65535])
    assert env.action_space["label"].n == 65536


# 6. paths that are not UTF-8 -------------------------------------------------------------


def non_utf8(tmp_path: Path, name: bytes) -> bytes:
    path = os.fsencode(tmp_path) + b"/" + name
    try:
        os.mkdir(path)
        os.rmdir(path)
    except (OSError, UnicodeError):
        pytest.skip("this file system wants UTF-8 names")
    return path


def test_data_paths_that_are_not_utf8_are_accepted(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (20, 8, 8), dtype=np.uint8), np.arange(20) % 2
    npz = non_utf8(tmp_path, b"caf\xe9.npz")
    np.savez(os.fsdecode(npz), images=x, labels=y)
    folder = non_utf8(tmp_path, b"d\xff")
    class_folder(Path(os.fsdecode(folder)), [5, 5])
    os.rename(os.fsdecode(folder) + "/class1", os.fsdecode(folder + b"/\xfe"))  # a class folder too
    for data in (npz, os.fsdecode(npz), Path(os.fsdecode(npz)), folder, os.fsdecode(folder)):
        env = gym.make("RAM-Glimpse-v0", data=data)
        assert len(ram_env.image_dataset(env)) == (16 if "npz" in repr(data) else 8)
    with pytest.raises(ValueError) as caught:
        gym.make("RAM-Glimpse-v0", data=npz + b"x")
    message = str(caught.value)
    message.encode("utf-8")  # printable: no lone surrogates in the message
    assert "caf\\udce9.npzx" in message


def test_messages_about_non_utf8_folders_are_printable(tmp_path):
    folder = non_utf8(tmp_path, b"empty\xff")
    os.mkdir(folder)
    with pytest.raises(ValueError, match="one sub-folder of images per class") as caught:
        own.load_image_set(folder)
    str(caught.value).encode("utf-8")


# 7. truncated, corrupt and empty files ---------------------------------------------------


def good_npz() -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez_compressed(buf, images=rng.integers(0, 256, (20, 8, 8), dtype=np.uint8), labels=np.arange(20) % 2)
    return buf.getvalue()


def flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


NPZ_FAULTS = {
    "empty": lambda: b"",
    "truncated": lambda: good_npz()[: len(good_npz()) // 2],
    "noise": lambda: np.random.default_rng(1).bytes(2000),
    "a .npy, not an .npz": lambda: _npy_bytes(),
    "corrupt member data": lambda: flipped(good_npz(), 80),
    "text": lambda: b"images,labels\n1,2\n",
}


def _npy_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros((4, 8, 8), np.uint8))
    return buf.getvalue()


@pytest.mark.parametrize("fault", sorted(NPZ_FAULTS))
def test_a_broken_npz_is_a_value_error_naming_the_file(tmp_path, fault):
    path = tmp_path / f"broken-{fault.replace(' ', '_')}.npz"
    path.write_bytes(NPZ_FAULTS[fault]())
    with pytest.raises(ValueError) as caught:
        gym.make("RAM-Glimpse-v0", data=path)
    message = str(caught.value)
    assert repr(str(path)) in message and len(message) > len(repr(str(path))) + 20, message


def test_npz_member_faults_name_the_member(tmp_path):
    bad_header = tmp_path / "header.npz"
    with zipfile.ZipFile(bad_header, "w") as zf:
        text = b"{'descr': 'nonsense'}\n"
        zf.writestr("images.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text)
        zf.writestr("labels.npy", _npy_bytes())
    with pytest.raises(ValueError, match=r"header\.npz'.*'images'.*header"):
        own.load_image_set(bad_header)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, images=np.array([{"a": 1}], dtype=object), labels=np.zeros(1, int))
    with pytest.raises(ValueError, match=r"pickled\.npz'.*'images'.*Python objects"):
        own.load_image_set(pickled)


PNG_FAULTS = {
    "empty": lambda good: b"",
    "truncated": lambda good: good[: len(good) // 2],
    "header only": lambda good: good[:33],
    "noise": lambda good: np.random.default_rng(2).bytes(300),
    "corrupt pixels": lambda good: good[:41] + b"\xff" * (len(good) - 57) + good[-16:],  # IDAT's data
}


@pytest.mark.parametrize("deep", [False, True])
@pytest.mark.parametrize("fault", sorted(PNG_FAULTS))
def test_a_broken_png_is_a_value_error_naming_the_file(tmp_path, fault, deep):
    folder = class_folder(tmp_path / "set", [3, 3])
    path = folder / "class1" / "bad.png"
    if deep:
        png16(path, np.random.default_rng(3).integers(0, 65536, (16, 16, 3)))
    else:
        Image.fromarray(np.random.default_rng(3).integers(0, 256, (16, 16), dtype=np.uint8)).save(path)
    path.write_bytes(PNG_FAULTS[fault](path.read_bytes()))
    with pytest.raises(ValueError) as caught:
        own.load_image_set(folder)
    message = str(caught.value)
    assert repr(str(path)) in message and len(message) > len(repr(str(path))) + 20, message


def test_images_of_different_sizes_name_a_file(tmp_path):
    folder = class_folder(tmp_path / "set", [3, 3])
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(folder / "class1" / "tall.png")
    with pytest.raises(ValueError, match=r"tall\.png'.*\(9, 8\).*\(8, 8\)"):
        own.load_image_set(folder)


# pickles -------------------------------------------------------------------------------


class _Boom:
    def __reduce__(self):
        return (os.mkdir, (str(_Boom.target),))


def test_no_field_of_an_npz_runs_code(tmp_path):
    _Boom.target = tmp_path / "ran"
    for name in ("images", "labels", "train_images", "train_labels"):
        split = name.startswith("train")
        arrays = {f"{'train_' if split else ''}{kind}": np.zeros((5, 8, 8) if kind == "images" else 5, np.uint8)
                  for kind in ("images", "labels")}  # fmt: skip
        arrays[name] = np.array([_Boom()], dtype=object)
        np.savez(tmp_path / f"{name}.npz", **arrays)
        with pytest.raises(ValueError):
            gym.make("RAM-Glimpse-v0", data=tmp_path / f"{name}.npz")
    assert not _Boom.target.exists()


def test_every_np_load_refuses_pickles():
    package = Path(ram_env.__file__).parent
    calls = []
    for source in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(("np.load", "numpy.load", "read_array")):
                keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
                calls.append((source.name, node.lineno, keywords.get("allow_pickle")))
    assert all(flag == "False" for *_, flag in calls), calls
