"""The retina's max-pooling option: ``GlimpseSensor(reduction="max")`` and every env's
``retina_reduction`` keyword.  Mean (area averaging, the paper's) stays the default, unchanged."""

import hashlib
import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ram_env
from ram_env.sensor import GlimpseSensor, IntegralImages, MaxTables


def reference_max_glimpse(image: np.ndarray, location, g: int, k: int, f: int) -> np.ndarray:
    """One max-pooled glimpse, pixel by pixel: each cell of patch ``s`` (``f**s`` pixels wide)
    is the largest pixel it covers, pixels outside the image reading 0."""
    h, w = image.shape
    row, col = (min(max(float(v), -1.0), 1.0) for v in location)
    cy, cx = (row + 1) / 2 * h, (col + 1) / 2 * w

    def pixel(y: int, x: int) -> float:
        return float(image[y, x]) if 0 <= y < h and 0 <= x < w else 0.0

    out = np.zeros((k, g, g))
    for s in range(k):
        cell = f**s
        top, left = math.floor(cy - g * cell / 2 + 0.5), math.floor(cx - g * cell / 2 + 0.5)
        for i in range(g):
            for j in range(g):
                ys = range(top + i * cell, top + (i + 1) * cell)
                xs = range(left + j * cell, left + (j + 1) * cell)
                out[s, i, j] = max(pixel(y, x) for y in ys for x in xs)
    return out


coordinate = st.one_of(
    st.floats(-3.0, 3.0, allow_nan=False),
    st.sampled_from([-1.0, 1.0, 0.0, -0.999, 0.999, 0.97, -0.97, 50.0, -50.0]),
)


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


# ---------------------------------------------------------------------------- the sensor
@settings(max_examples=150, deadline=None)
@given(
    height=st.integers(1, 24),
    width=st.integers(1, 24),
    g=st.integers(1, 6),
    k=st.integers(1, 3),
    f=st.sampled_from([2, 3]),
    locations=st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=3),
    signed=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_max_reading_equals_the_pixel_loop(height, width, g, k, f, locations, signed, seed):
    """Random images (negative values too: outside pixels still read 0) at locations in,
    near and beyond the borders."""
    image = np.random.default_rng(seed).random((height, width)) - (0.5 if signed else 0.0)
    sensor = GlimpseSensor(g, k, f, reduction="max")
    images = np.repeat(image[None], len(locations), axis=0)
    fast = sensor(images, np.array(locations))
    assert fast.shape == (len(locations), k, g, g) and fast.dtype == np.float32
    for n, loc in enumerate(locations):
        np.testing.assert_allclose(fast[n], reference_max_glimpse(image, loc, g, k, f), rtol=1e-6, atol=1e-7)


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 40),
    g=st.integers(1, 6),
    k=st.integers(1, 4),
    f=st.sampled_from([2, 3]),
    locations=st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_max_tables_equal_the_direct_crop(size, g, k, f, locations, seed):
    images = np.random.default_rng(seed).integers(0, 256, (len(locations), size, size + 3)).astype(np.uint8)
    sensor = GlimpseSensor(g, k, f, reduction="max")
    np.testing.assert_array_equal(sensor(images, np.array(locations)), sensor.crop(images, np.array(locations)))


@given(loc=st.tuples(coordinate, coordinate), seed=st.integers(0, 1000))
def test_the_first_scale_is_the_same_for_mean_and_max(loc, seed):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (30, 30)).astype(np.uint8)
    mean = GlimpseSensor(6, 3, 2)(image, np.array(loc))
    top = GlimpseSensor(6, 3, 2, reduction="max")(image, np.array(loc))
    np.testing.assert_array_equal(top[0], mean[0])  # bit for bit on integer images
    floats = rng.random((30, 30))
    np.testing.assert_allclose(
        GlimpseSensor(6, 3, 2, reduction="max")(floats, np.array(loc))[0],
        GlimpseSensor(6, 3, 2)(floats, np.array(loc))[0],
        atol=1e-6,
    )
    assert np.all(top >= mean - 1e-6)  # a max is never below the mean


def test_a_one_pixel_dot_keeps_its_strength_at_the_third_scale():
    """Catch's retina (6x6, 3 scales on 24x24): the third scale's cells are 4x4 pixels."""
    screen = np.zeros((24, 24), np.uint8)
    screen[7, 17] = 255  # second scale: pixels 6..17, third: 0..23
    mean = GlimpseSensor(6, 3, 2)(screen, np.zeros(2))
    top = GlimpseSensor(6, 3, 2, reduction="max")(screen, np.zeros(2))
    assert mean[2, 1, 4] == pytest.approx(1 / 16) and top[2, 1, 4] == 1.0
    assert mean[1, 0, 5] == pytest.approx(1 / 4) and top[1, 0, 5] == 1.0
    assert top[2].sum() == 1.0 and top[1].sum() == 1.0  # and nowhere else


def test_mean_reads_are_unchanged_bit_for_bit():
    """Digests of reads made before the option existed."""
    rng = np.random.default_rng(2026)
    images = rng.integers(0, 256, (64, 100, 100)).astype(np.uint8)
    loc = rng.uniform(-1.3, 1.3, (64, 2))
    assert digest(GlimpseSensor(12, 4, 2)(images, loc)) == "d02913e5af0ab03a"
    assert digest(GlimpseSensor(12, 4, 2, reduction="mean")(images, loc)) == "d02913e5af0ab03a"
    floats = rng.random((16, 37, 41))
    assert digest(GlimpseSensor(5, 3, 1.5)(floats, loc[:16])) == "11ebf735e4ab7e69"


@pytest.mark.parametrize(
    ("env_id", "key", "expected"),
    [("RAM-ClutteredMNIST100-v0", "label", "805f2bf5a4711a55"), ("RAM-Catch-v0", "move", "d26190efc728812d")],
)
@pytest.mark.parametrize("kwargs", [{}, {"retina_reduction": "mean"}])
def test_mean_envs_are_unchanged_bit_for_bit(env_id, key, expected, kwargs):
    env = gym.make(env_id, **kwargs)
    obs, _ = env.reset(seed=3)
    seen = [obs["glimpse"]]
    for t in range(4):
        obs, *_ = env.step({"location": np.array([0.7 - 0.4 * t, -0.9 + 0.5 * t], np.float32), key: 1})
        seen.append(obs["glimpse"])
    assert digest(np.stack(seen)) == expected


def test_uint8_images_read_as_value_over_255_and_index_picks_images():
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (3, 30, 30)).astype(np.uint8)
    sensor = GlimpseSensor(6, 3, 2, reduction="max")
    loc = rng.uniform(-1.2, 1.2, (3, 2))
    np.testing.assert_allclose(sensor(images, loc), sensor(images / 255.0, loc), atol=1e-7)
    tables = sensor.tables(images)
    assert isinstance(tables, MaxTables) and tables.num_images == 3
    out = sensor.read(tables, loc[:2], index=np.array([2, 0]))
    np.testing.assert_array_equal(out[0], sensor(images[2], loc[0]))
    np.testing.assert_array_equal(out[1], sensor(images[0], loc[1]))


def test_bool_and_integer_images():
    rng = np.random.default_rng(5)
    sensor = GlimpseSensor(4, 3, 2, reduction="max")
    loc = rng.uniform(-1, 1, (2, 2))
    dots = rng.random((2, 20, 20)) > 0.97
    np.testing.assert_array_equal(sensor(dots, loc), sensor(dots.astype(np.float64), loc))
    ints = rng.integers(-1000, 1000, (2, 20, 20)).astype(np.int64)
    np.testing.assert_array_equal(sensor(ints, loc), sensor(ints.astype(np.float64), loc))


def test_large_max_batches_use_threads_and_agree():
    sensor = GlimpseSensor(12, 3, 2, reduction="max")
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (600, 60, 60)).astype(np.uint8)
    loc = rng.uniform(-1.5, 1.5, (600, 2))
    tables = sensor.tables(images)
    threaded = sensor.read(tables, loc)  # 600 >= parallel_threshold
    serial = np.concatenate(
        [sensor.read(tables, loc[i : i + 100], index=np.arange(i, i + 100)) for i in range(0, 600, 100)]
    )
    np.testing.assert_array_equal(threaded, serial)


def test_mean_sensors_still_build_summed_area_tables():
    sensor = GlimpseSensor(4, 2, 2)
    assert sensor.reduction == "mean" and isinstance(sensor.tables(np.zeros((1, 8, 8))), IntegralImages)
    assert repr(sensor) == "GlimpseSensor(glimpse_size=4, n_scales=2, scale_factor=2)"
    assert "reduction='max'" in repr(GlimpseSensor(4, 2, 2, reduction="max"))


@pytest.mark.parametrize("value", ["median", "MAX", "", None, 1, b"max", ("max",)])
def test_an_unknown_reduction_is_named(value):
    with pytest.raises(ValueError, match="reduction must be 'mean'.*or 'max'"):
        GlimpseSensor(4, 2, 2, reduction=value)


def test_max_needs_whole_pixel_cells_and_no_zoom():
    with pytest.raises(ValueError, match="reduction='max' needs whole-pixel cells.*integer scale_factor.*1.5"):
        GlimpseSensor(4, 2, 1.5, reduction="max")
    GlimpseSensor(4, 1, 1.5, reduction="max")  # one scale: its cells are pixels whatever the factor
    with pytest.raises(ValueError, match="zoom needs reduction='mean'"):
        GlimpseSensor(4, 2, 2, max_width=8, reduction="max")
    sensor = GlimpseSensor(4, 2, 2, reduction="max")
    tables = sensor.tables(np.zeros((1, 16, 16)))
    with pytest.raises(ValueError, match="zoom needs reduction='mean'"):
        sensor.read(tables, np.zeros((1, 2)), widths=np.full(1, 4.0))


def test_tables_of_another_reduction_or_retina_are_refused():
    images = np.zeros((1, 16, 16))
    mean, top = GlimpseSensor(4, 2, 2), GlimpseSensor(4, 2, 2, reduction="max")
    with pytest.raises(ValueError, match=r"reduction='max'.*MaxTables.*sensor.tables\(images\)"):
        top.read(top.integral(images), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"reduction='mean'.*IntegralImages.*sensor.tables\(images\)"):
        mean.read(top.tables(images), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="build them with this sensor"):
        top.read(GlimpseSensor(4, 2, 3, reduction="max").tables(images), np.zeros((1, 2)))


# ---------------------------------------------------------------------------- the envs
IMAGES = np.random.default_rng(0).integers(0, 256, (40, 16, 16)).astype(np.uint8)
LABELS = np.arange(40) % 4
ENVS = [
    ("RAM-ClutteredMNIST-v0", "label", {}),
    ("RAM-MNIST-v0", "label", dict(n_scales=2, glimpse_size=6)),
    ("RAM-Catch-v0", "move", {}),
    ("RAM-Glimpse-v0", "label", dict(images=IMAGES, labels=LABELS, canvas_size=32, n_scales=3, glimpse_size=4)),
]
COLOUR = np.random.default_rng(1).integers(0, 256, (40, 16, 16, 3)).astype(np.uint8)
ENVS.append(("RAM-Glimpse-v0", "label", dict(images=COLOUR, labels=LABELS, canvas_size=32, n_scales=2, glimpse_size=4)))


def glimpses(env, key: str, steps: int = 4, seed: int = 7) -> list[np.ndarray]:
    """The glimpses of a few steps (the same locations whatever the env)."""
    obs, _ = env.reset(seed=seed)
    seen = [obs["glimpse"]]
    for t in range(steps):
        location = np.array([0.8 - 0.5 * t, -0.6 + 0.4 * t], np.float32)
        obs, _, terminated, _, _ = env.step({"location": location, key: 1})
        seen.append(obs["glimpse"])
        if terminated:
            break
    return seen


@pytest.mark.parametrize(("env_id", "key", "kwargs"), ENVS, ids=lambda v: v if isinstance(v, str) else "")
def test_every_env_takes_retina_reduction(env_id, key, kwargs):
    mean_env = gym.make(env_id, **kwargs)
    max_env = gym.make(env_id, retina_reduction="max", **kwargs)
    assert ram_env.glimpse_sensor(max_env).reduction == "max"
    assert ram_env.glimpse_sensor(mean_env).reduction == "mean"
    assert max_env.observation_space == mean_env.observation_space
    mean, top = glimpses(mean_env, key), glimpses(max_env, key)
    for a, b in zip(mean, top, strict=True):  # the same first scale; max >= mean
        np.testing.assert_array_equal(a[0], b[0])
        assert np.all(b >= a - 1e-6) and b in max_env.observation_space["glimpse"]
    assert any(not np.array_equal(a, b) for a, b in zip(mean, top, strict=True))


@pytest.mark.parametrize(("env_id", "key", "kwargs"), ENVS, ids=lambda v: v if isinstance(v, str) else "")
def test_a_max_vector_env_equals_n_single_envs(env_id, key, kwargs):
    n = 3
    vec = gym.make_vec(env_id, num_envs=n, retina_reduction="max", **kwargs)
    singles = [gym.make(env_id, retina_reduction="max", **kwargs) for _ in range(n)]
    obs, _ = vec.reset(seed=11)
    single_obs = [env.reset(seed=11 + i)[0] for i, env in enumerate(singles)]
    done = np.zeros(n, dtype=bool)
    for t in range(30):  # past the first episode end: autoreset replaces the tables
        locations = np.random.default_rng(t).uniform(-1.2, 1.2, (n, 2)).astype(np.float32)
        for i in range(n):
            np.testing.assert_array_equal(obs["glimpse"][i], single_obs[i]["glimpse"])
        obs, rewards, terminated, _, _ = vec.step({"location": locations, key: np.ones(n, np.int64)})
        for i, env in enumerate(singles):
            if done[i]:
                single_obs[i] = env.reset()[0]
                continue
            single_obs[i], reward, _, _, _ = env.step({"location": locations[i], key: 1})
            assert reward == rewards[i]
        done = terminated


def test_episodes_ending_apart_replace_only_their_own_max_tables():
    """``allow_stop``: env 0 stops at once, so its next episode's tables replace its own only."""
    kwargs = dict(n_glimpses=4, glimpse_size=6, n_scales=3, canvas_size=60, allow_stop=True, retina_reduction="max")
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=2, **kwargs)
    singles = [gym.make("RAM-MNIST-v0", **kwargs) for _ in range(2)]
    vec.reset(seed=0)
    for i, env in enumerate(singles):
        env.reset(seed=i)
    location = np.array([[0.1, 0.2], [-0.3, 0.4]], np.float32)
    vec.step({"location": location, "label": np.zeros(2, np.int64), "stop": np.array([1, 0])})
    obs, *_ = vec.step({"location": location, "label": np.zeros(2, np.int64), "stop": np.array([0, 0])})
    singles[0].step({"location": location[0], "label": 0, "stop": 1})
    first = singles[0].reset()[0]
    singles[1].step({"location": location[1], "label": 0, "stop": 0})
    second = singles[1].step({"location": location[1], "label": 0, "stop": 0})[0]
    np.testing.assert_array_equal(obs["glimpse"][0], first["glimpse"])
    np.testing.assert_array_equal(obs["glimpse"][1], second["glimpse"])


def test_catch_ball_at_full_strength_in_the_periphery():
    """A centre glimpse sees the ball, wherever it is, at the third scale (4x4-pixel cells)."""
    for reduction, strength in (("max", 1.0), ("mean", 1 / 16)):
        env = gym.make("RAM-Catch-v0", retina_reduction=reduction, initial_location="center")
        obs, _ = env.reset(seed=1)
        task = env.unwrapped.task
        col = int(task.ball_col[0])
        assert obs["glimpse"][2, 0, col // 4] == pytest.approx(strength)


@pytest.mark.parametrize(
    ("env_id", "key", "kwargs"), ENVS[:1] + ENVS[2:4], ids=lambda v: v if isinstance(v, str) else ""
)
def test_bad_retina_reductions_are_named(env_id, key, kwargs):
    with pytest.raises(ValueError, match=r"retina_reduction must be 'mean'.*'max'.*'maximum'.*did you mean 'max'"):
        gym.make(env_id, retina_reduction="maximum", **kwargs)
    with pytest.raises(ValueError, match="retina_reduction must be"):
        gym.make_vec(env_id, num_envs=2, retina_reduction=None, **kwargs)
    with pytest.raises(ValueError, match="reduction='max' needs whole-pixel cells"):
        gym.make(env_id, retina_reduction="max", scale_factor=1.5, **kwargs)


@pytest.mark.parametrize("env_id", ["RAM-MNIST-v0", "RAM-Glimpse-v0"])
def test_zoom_needs_the_mean_retina(env_id):
    kwargs = dict(images=IMAGES, labels=LABELS) if env_id == "RAM-Glimpse-v0" else {}
    with pytest.raises(ValueError, match=r"zoom needs retina_reduction='mean'"):
        gym.make(env_id, zoom=(4.0, 8.0), retina_reduction="max", **kwargs)
    gym.make(env_id, zoom=(4.0, 8.0), retina_reduction="mean", **kwargs)


def test_numpy_strings_are_taken():
    env = gym.make("RAM-Catch-v0", retina_reduction=np.str_("max"))
    assert ram_env.glimpse_sensor(env).reduction == "max"
