"""Bundled MNIST (verified by SHA-256) and the digit canvases built from it."""

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from ram_env import mnist
from ram_env.datasets import DigitCanvases
from ram_env.mnist import MNIST_SHA256, MnistDataError, load_mnist, load_split

BUNDLED = Path(mnist.__file__).parent / "data" / "mnist"


def test_bundled_files_match_published_hashes():
    sums = dict(line.split()[::-1] for line in (BUNDLED / "SHA256SUMS").read_text().splitlines())
    assert sums == MNIST_SHA256
    for name, digest in MNIST_SHA256.items():
        assert hashlib.sha256((BUNDLED / name).read_bytes()).hexdigest() == digest


def test_split_sizes_and_types():
    sizes = {"train": 55_000, "validation": 5_000, "test": 10_000}
    for split, n in sizes.items():
        images, labels = load_split(split)
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and set(np.unique(labels)) == set(range(10))
    train, _ = load_mnist("train")
    np.testing.assert_array_equal(load_split("validation")[0], train[55_000:])


@pytest.fixture
def mnist_copy(tmp_path):
    for name in MNIST_SHA256:
        shutil.copy(BUNDLED / name, tmp_path / name)
    mnist._load_cached.cache_clear()
    yield tmp_path
    mnist._load_cached.cache_clear()


def test_corrupt_file_names_file_and_expected_hash(mnist_copy):
    target = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(MnistDataError, match=r"t10k-labels-idx1-ubyte\.gz.*" + MNIST_SHA256[target.name]):
        load_mnist("t10k", mnist_copy)


def test_missing_file_is_reported(mnist_copy):
    (mnist_copy / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(MnistDataError, match="missing.*train-images-idx3-ubyte.gz"):
        load_mnist("train", mnist_copy)


def test_environment_variable_points_to_another_copy(mnist_copy, monkeypatch):
    monkeypatch.setenv("RAM_GYM_MNIST_DIR", str(mnist_copy))
    assert mnist.data_directory() == mnist_copy
    images, _ = load_mnist("t10k")
    assert images.shape == (10_000, 28, 28)
    (mnist_copy / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"not mnist"))
    mnist._load_cached.cache_clear()
    with pytest.raises(MnistDataError, match="corrupt"):
        load_mnist("t10k")


def test_bad_split_and_part():
    with pytest.raises(ValueError, match="split"):
        load_split("valid")
    with pytest.raises(ValueError, match="part"):
        load_mnist("t10")


def test_plain_mnist_is_the_digit_as_given():
    data = DigitCanvases("test")
    canvases, idx = data.render(np.random.default_rng(0).random((5, data.layout_width)), np.arange(5))
    np.testing.assert_array_equal(canvases, data.images[:5])


def test_translated_digit_is_pasted_whole_somewhere():
    data = DigitCanvases("train", canvas_size=60)
    u = np.random.default_rng(1).random((200, data.layout_width))
    canvases, idx = data.render(u)
    assert canvases.shape == (200, 60, 60)
    # no clutter: the canvas holds exactly the digit's pixels
    np.testing.assert_array_equal(canvases.reshape(200, -1).sum(1), data.images[idx].reshape(200, -1).sum(1))
    tops = np.array([np.nonzero(c.any(1))[0][0] for c in canvases])
    assert tops.min() < 10 and tops.max() > 30  # positions spread over the canvas


def test_clutter_adds_clipped_patches_of_other_digits():
    data = DigitCanvases("train", canvas_size=60, n_distractors=4)
    plain = DigitCanvases("train", canvas_size=60)
    u = np.random.default_rng(2).random((300, data.layout_width))
    cluttered, idx = data.render(u)
    clean, idx2 = plain.render(u[:, :3])
    np.testing.assert_array_equal(idx, idx2)
    assert np.all(cluttered >= clean)  # distractors only add ink, clipped at 255
    assert (cluttered.astype(int) - clean).sum() > 0
    assert cluttered.max() == 255


def test_distractor_never_comes_from_the_target_digit():
    data = DigitCanvases("validation", canvas_size=60, n_distractors=1)
    u = np.zeros((10, data.layout_width))
    u[:, 0] = 0.0  # target digit 0 ...
    u[:, 3] = 0.0  # ... and a source drawn at the same position must skip it
    assert np.all(data.render(u)[1] == 0)


def test_fixed_splits_have_fixed_layouts():
    a = DigitCanvases("test", canvas_size=60, n_distractors=4)
    b = DigitCanvases("test", canvas_size=60, n_distractors=4)
    idx = np.array([0, 17, 9999])
    np.testing.assert_array_equal(a.render(a.fixed_layouts(idx), idx)[0], b.render(b.fixed_layouts(idx), idx)[0])
    with pytest.raises(ValueError, match="fixed layouts"):
        DigitCanvases("train").fixed_layouts(idx)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(canvas_size=20), "canvas_size"),
        (dict(n_distractors=-1), "n_distractors"),
        (dict(distractor_size=29), "distractor_size"),
        (dict(split="dev"), "split"),
    ],
)
def test_bad_canvas_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        DigitCanvases(**kwargs)


def test_offsets_say_where_render_pastes_the_image():
    from ram_env.datasets import DigitCanvases

    canvases = DigitCanvases("test", canvas_size=60)
    layouts = canvases.fixed_layouts(np.arange(5))
    images, indices = canvases.render(layouts, np.arange(5))
    top, left = canvases.offsets(layouts)
    for i in range(5):
        np.testing.assert_array_equal(images[i, top[i] : top[i] + 28, left[i] : left[i] + 28], canvases.images[i])
        assert images[i].sum() == canvases.images[i].astype(np.int64).sum()  # nothing outside it
