"""The batched glimpse sensor equals a slow, obviously-correct reference."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ram_env.sensor import GlimpseSensor


def reference_glimpse(image: np.ndarray, location, g: int, k: int, f: float) -> np.ndarray:
    """One glimpse, pixel by pixel: DESIGN.md section 1 written out with loops.

    Patch s is ``g * f**s`` pixels wide, centred on ``((row + 1) / 2 * H, (col + 1) / 2 * W)``
    with its top-left edge rounded to a whole pixel (halves up); each of its ``g x g``
    cells is the average of the image over the cell's area, zero outside the image.
    """
    h, w = image.shape
    row, col = (min(max(float(v), -1.0), 1.0) for v in location)
    cy, cx = (row + 1) / 2 * h, (col + 1) / 2 * w
    out = np.zeros((k, g, g))
    for s in range(k):
        cell = f**s
        size = g * cell
        top, left = math.floor(cy - size / 2 + 0.5), math.floor(cx - size / 2 + 0.5)
        for i in range(g):
            for j in range(g):
                r0, r1 = top + i * cell, top + (i + 1) * cell
                c0, c1 = left + j * cell, left + (j + 1) * cell
                total = 0.0
                for y in range(h):
                    oy = max(0.0, min(y + 1, r1) - max(y, r0))
                    if oy == 0:
                        continue
                    for x in range(w):
                        ox = max(0.0, min(x + 1, c1) - max(x, c0))
                        total += oy * ox * image[y, x]
                out[s, i, j] = total / cell**2
    return out


coordinate = st.one_of(
    st.floats(-3.0, 3.0, allow_nan=False),
    st.sampled_from([-1.0, 1.0, 0.0, -0.999, 0.999, 50.0, -50.0]),
)


@settings(max_examples=200)
@given(
    height=st.integers(1, 24),
    width=st.integers(1, 24),
    g=st.integers(1, 6),
    k=st.integers(1, 3),
    f=st.sampled_from([2.0, 3.0, 1.5, 2.5]),
    locations=st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_fast_sensor_equals_reference(height, width, g, k, f, locations, seed):
    image = np.random.default_rng(seed).random((height, width))
    sensor = GlimpseSensor(g, k, f)
    images = np.repeat(image[None], len(locations), axis=0)
    fast = sensor(images, np.array(locations))
    for n, loc in enumerate(locations):
        np.testing.assert_allclose(fast[n], reference_glimpse(image, loc, g, k, f), atol=1e-5)


@given(loc=st.tuples(coordinate, coordinate), seed=st.integers(0, 1000))
def test_uint8_images_read_as_value_over_255(loc, seed):
    image = np.random.default_rng(seed).integers(0, 256, (30, 30)).astype(np.uint8)
    sensor = GlimpseSensor(6, 3, 2)
    np.testing.assert_allclose(sensor(image, np.array(loc)), sensor(image / 255.0, np.array(loc)), atol=1e-6)


def test_paper_configuration_shapes_and_range():
    sensor = GlimpseSensor(glimpse_size=12, n_scales=3, scale_factor=2)
    images = np.random.default_rng(0).integers(0, 256, (5, 60, 60)).astype(np.uint8)
    out = sensor(images, np.zeros((5, 2)))
    assert out.shape == (5, 3, 12, 12) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert sensor.shape == (3, 12, 12)


def test_whole_image_coarse_scale_is_mean_of_blocks():
    """At the centre of a 24x24 image the 3rd 6x6 patch (24 px) is the image in 4x4 blocks."""
    image = np.random.default_rng(1).random((24, 24))
    out = GlimpseSensor(6, 3, 2)(image, np.zeros(2))
    np.testing.assert_allclose(out[2], image.reshape(6, 4, 6, 4).mean(axis=(1, 3)), atol=1e-6)
    np.testing.assert_allclose(out[0], image[9:15, 9:15], atol=1e-6)


def test_outside_reads_zero_and_locations_are_clipped():
    image = np.ones((20, 20))
    sensor = GlimpseSensor(4, 2, 2)
    corner = sensor(image, np.array([-1.0, -1.0]))
    # the patch centred on the corner sees the image in its bottom-right quarter only
    assert corner[0, :2, :].sum() == 0 and corner[0, :, :2].sum() == 0
    np.testing.assert_allclose(corner[0, 2:, 2:], 1.0)
    np.testing.assert_array_equal(sensor(image, np.array([-7.0, -1.5])), corner)


def test_index_reads_chosen_images():
    sensor = GlimpseSensor(4, 2, 2)
    images = np.random.default_rng(2).random((3, 16, 16))
    table = sensor.integral(images)
    loc = np.array([[0.1, -0.2], [0.5, 0.5]])
    out = sensor.read(table, loc, index=np.array([2, 0]))
    np.testing.assert_allclose(out[0], sensor(images[2], loc[0]), atol=1e-6)
    np.testing.assert_allclose(out[1], sensor(images[0], loc[1]), atol=1e-6)


def test_large_batches_use_threads_and_agree():
    sensor = GlimpseSensor(12, 3, 2)
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (600, 60, 60)).astype(np.uint8)
    loc = rng.uniform(-1.5, 1.5, (600, 2))
    table = sensor.integral(images)
    threaded = sensor.read(table, loc)  # 600 >= parallel_threshold
    serial = np.concatenate(
        [sensor.read(table, loc[i : i + 100], index=np.arange(i, i + 100)) for i in range(0, 600, 100)]
    )
    np.testing.assert_array_equal(threaded, serial)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(glimpse_size=0), "glimpse_size"),
        (dict(glimpse_size=2.5), "glimpse_size"),
        (dict(n_scales=0), "n_scales"),
        (dict(n_scales=2, scale_factor=1.0), "scale_factor"),
        (dict(n_scales=2, scale_factor=float("nan")), "scale_factor"),
        (dict(reduction="median"), "reduction must be 'mean'"),
        (dict(n_scales=2, scale_factor=1.5, reduction="max"), "integer scale_factor"),
    ],
)
def test_bad_sensor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GlimpseSensor(**kwargs)


def test_bad_locations_and_images():
    sensor = GlimpseSensor(4, 1)
    images = np.zeros((2, 10, 10))
    with pytest.raises(ValueError, match="finite"):
        sensor(images, np.array([[0.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="finite"):
        sensor(images, np.array([[np.inf, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="shape"):
        sensor(images, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="locations for"):
        sensor(images, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        sensor(np.zeros(10), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        sensor(np.full((1, 4, 4), np.nan), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="index"):
        sensor.read(sensor.integral(images), np.zeros((1, 2)), index=np.array([5]))


@given(
    size=st.integers(1, 40),
    g=st.integers(1, 6),
    k=st.integers(1, 3),
    f=st.sampled_from([2, 3]),
    locations=st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_direct_crop_equals_the_table_sensor(size, g, k, f, locations, seed):
    images = np.random.default_rng(seed).integers(0, 256, (len(locations), size, size + 3)).astype(np.uint8)
    sensor = GlimpseSensor(g, k, f)
    np.testing.assert_allclose(sensor.crop(images, np.array(locations)), sensor(images, np.array(locations)), atol=1e-5)


def test_direct_crop_rejects_fractional_cells_and_bad_shapes():
    with pytest.raises(ValueError, match="integer scale_factor"):
        GlimpseSensor(4, 2, 1.5).crop(np.zeros((1, 8, 8)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="locations for"):
        GlimpseSensor(4, 2, 2).crop(np.zeros((2, 8, 8)), np.zeros((1, 2)))


def test_zoomed_reads_are_area_averages_of_the_chosen_width():
    """read(..., widths=) (groundwork for the paper's scale choice): a finest patch w pixels
    wide, reduced to g x g, equals the plain sensor of glimpse_size w pooled down to g."""
    rng = np.random.default_rng(3)
    images = rng.random((3, 40, 40))
    sensor = GlimpseSensor(8, 2, 2.0, max_width=24)
    table = sensor.integral(images)
    loc = rng.uniform(-0.8, 0.8, (3, 2))
    np.testing.assert_allclose(
        sensor.read(table, loc, widths=np.full(3, 8.0)), GlimpseSensor(8, 2, 2.0)(images, loc), atol=1e-5
    )
    wide = sensor.read(table, loc, widths=np.array([16.0, 16.0, 24.0]))
    for i, w in enumerate((16, 16, 24)):
        ref = GlimpseSensor(w, 2, 2.0)(images[i], loc[i]).reshape(2, 8, w // 8, 8, w // 8).mean((2, 4))
        np.testing.assert_allclose(wide[i], ref, atol=1e-5)
    import pytest

    with pytest.raises(ValueError, match="max_width 24"):
        sensor.read(table, loc, widths=np.full(3, 30.0))
