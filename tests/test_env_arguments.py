"""Constructor keywords in plain sight (as cartpole's), and bad arguments named in the error."""

import inspect

import gymnasium as gym
import numpy as np
import pytest

import ram_env
from ram_env.catch import CatchTask
from ram_env.classification import ClassificationTask
from ram_env.images import GlimpseImagesEnv, GlimpseImagesVectorEnv, ImageClassificationTask

ENVS = [
    (ram_env.GlimpseClassificationEnv, ClassificationTask),
    (ram_env.GlimpseClassificationVectorEnv, ClassificationTask),
    (ram_env.CatchEnv, CatchTask),
    (ram_env.CatchVectorEnv, CatchTask),
    (GlimpseImagesEnv, ImageClassificationTask),
    (GlimpseImagesVectorEnv, ImageClassificationTask),
]
SINGLE = {ClassificationTask: ram_env.GlimpseClassificationEnv, CatchTask: ram_env.CatchEnv}
SINGLE[ImageClassificationTask] = GlimpseImagesEnv


def parameters(function, drop=("self", "num_envs", "render_mode")):
    return [p for name, p in inspect.signature(function).parameters.items() if name not in drop]


@pytest.mark.parametrize(("env_class", "task_class"), ENVS, ids=lambda c: c.__name__)
def test_every_task_keyword_is_in_the_env_signature(env_class, task_class):
    env_params = parameters(env_class.__init__)
    task_params = parameters(task_class.__init__)
    assert [p.name for p in env_params] == [p.name for p in task_params]
    for env_p, task_p in zip(env_params, task_params, strict=True):
        assert env_p.kind is inspect.Parameter.KEYWORD_ONLY, env_p
        assert env_p.default == task_p.default, env_p
        assert env_p.annotation == task_p.annotation and env_p.annotation is not inspect.Parameter.empty, env_p
    signature = inspect.signature(env_class.__init__)
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    assert signature.parameters["render_mode"].default is None
    if "Vector" in env_class.__name__:
        assert signature.parameters["num_envs"].default == 1
    # each keyword is in the Arguments table of the docstring the docs page is made from
    for p in env_params:
        assert f"``{p.name}``" in SINGLE[task_class].__doc__.partition("## Arguments")[2], p.name


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: gym.make("RAM-MNIST-v0", n_glimpse=3), "n_glimpse"),
        (lambda: gym.make_vec("RAM-MNIST-v0", num_envs=2, n_glimpse=3), "n_glimpse"),
        (lambda: ram_env.GlimpseClassificationEnv(n_glimpse=3), "n_glimpse"),
        (lambda: ram_env.GlimpseClassificationVectorEnv(2, n_glimpse=3), "n_glimpse"),
        (lambda: gym.make("RAM-Catch-v0", paddle=3), "paddle"),
        (lambda: ram_env.CatchVectorEnv(num_envs=2, paddle=3), "paddle"),
    ],
)
def test_unknown_keywords_raise_value_error_naming_them(make, name):
    with pytest.raises(ValueError, match=f"unknown keyword argument.*'{name}'") as info:
        make()
    assert "valid keywords" in str(info.value)


def test_a_near_miss_keyword_gets_a_suggestion():
    with pytest.raises(ValueError, match="did you mean 'n_glimpses'"):
        gym.make("RAM-MNIST-v0", n_glimpse=3)


def test_subclass_with_its_own_task_keeps_working():
    """``RAM-Glimpse-v0``'s env subclasses the MNIST env with a task of other keywords."""
    images = np.zeros((20, 12, 12), np.uint8)
    env = gym.make("RAM-Glimpse-v0", images=images, labels=np.arange(20) % 4, glimpse_size=4)
    assert env.reset(seed=0)[0]["glimpse"].shape == (1, 4, 4)
    with pytest.raises(ValueError, match="unknown keyword.*'imagez'"):
        gym.make("RAM-Glimpse-v0", imagez=images, labels=np.arange(20) % 4)


@pytest.mark.parametrize("env_id", ["RAM-MNIST-v0", "RAM-Catch-v0"])
@pytest.mark.parametrize("render_mode", [1, 1.5, b"rgb_array", ["rgb_array"]])
def test_a_render_mode_that_is_not_a_string_is_named(env_id, render_mode):
    with pytest.raises(ValueError, match="render_mode must be one of"):
        gym.make(env_id, render_mode=render_mode)
    with pytest.raises(ValueError, match="render_mode must be one of"):
        gym.make_vec(env_id, num_envs=2, render_mode=render_mode)


def test_gymnasium_render_collection_still_applies():
    env = gym.make("RAM-MNIST-v0", render_mode="rgb_array_list")
    env.reset(seed=0)
    assert len(env.render()) == 1
    modes = ram_env.GlimpseClassificationEnv.metadata["render_modes"]
    assert list(modes) == ["rgb_array", "human"] and "rgb_array" in modes and "ansi" not in modes


@pytest.mark.parametrize("env_id", ["RAM-MNIST-v0", "RAM-Catch-v0"])
@pytest.mark.parametrize("options", [5, "index", [("index", 3)], 1.0])
def test_reset_options_that_are_not_a_dict_are_named(env_id, options):
    with pytest.raises(TypeError, match="options must be a dict"):
        gym.make(env_id).reset(options=options)
    with pytest.raises(TypeError, match="options must be a dict"):
        gym.make_vec(env_id, num_envs=2).reset(options=options)


@pytest.mark.parametrize("env_id", ["RAM-MNIST-v0", "RAM-Catch-v0"])
@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("centre", "did you mean 'center'"),
        ("Random", "did you mean 'random'"),
        ("", ""),
        (b"center", ""),
        (("center", "random"), ""),
        ([0.1, "x"], ""),
        (object(), ""),
    ],
)
def test_a_bad_initial_location_is_named_with_the_allowed_ones(env_id, value, hint):
    pattern = r"initial_location must be 'random', 'center', 'none' or \(row, col\)"
    with pytest.raises(ValueError, match=pattern) as info:
        gym.make(env_id, initial_location=value)
    assert hint in str(info.value)
    with pytest.raises(ValueError, match=pattern):
        gym.make(env_id).reset(options={"initial_location": value})


def test_a_numpy_string_initial_location_is_a_string():
    env = gym.make("RAM-MNIST-v0", initial_location=np.array("center"))
    obs, _ = env.reset(seed=0)
    assert obs["location"].tolist() == [0.0, 0.0]


def first_steps(env, action):
    obs, info = env.reset(seed=0)
    seen = [obs, info]
    for _ in range(2):
        seen.extend(env.step(action)[:2])
    return seen


def assert_same(a, b):
    for x, y in zip(a, b, strict=True):
        if isinstance(x, dict):
            for key in x:
                np.testing.assert_array_equal(x[key], y[key])
        else:
            assert x == y


def test_numpy_scalars_are_accepted_where_python_scalars_are():
    python = dict(
        n_glimpses=3,
        glimpse_size=6,
        n_scales=2,
        scale_factor=2.0,
        canvas_size=40,
        n_distractors=2,
        distractor_size=6,
        allow_stop=True,
        glimpse_cost=0.25,
        zoom=(4.0, 8.0),
        reward="dense",
        initial_location=(0.25, -0.5),
    )
    numpy = dict(
        n_glimpses=np.int64(3),
        glimpse_size=np.int32(6),
        n_scales=np.int16(2),
        scale_factor=np.float32(2.0),
        canvas_size=np.uint16(40),
        n_distractors=np.int8(2),
        distractor_size=np.int64(6),
        allow_stop=np.bool_(True),
        glimpse_cost=np.float32(0.25),
        zoom=(np.float32(4), np.float64(8)),
        reward=np.str_("dense"),
        initial_location=np.array([0.25, -0.5], np.float32),
    )
    action = {"location": np.array([0.3, 0.3], np.float32), "label": 1, "stop": 0, "zoom": np.zeros(1, np.float32)}
    assert_same(
        first_steps(gym.make("RAM-MNIST-v0", **numpy), action), first_steps(gym.make("RAM-MNIST-v0", **python), action)
    )
    assert ram_env.glimpse_task(gym.make("RAM-MNIST-v0", **numpy)).glimpse_cost == 0.25
    catch = dict(screen_size=np.int64(16), paddle_width=np.int32(3), ball_speed=np.int8(2), max_angle=np.float32(30))
    plain = dict(screen_size=16, paddle_width=3, ball_speed=2, max_angle=30.0)
    move = {"location": np.zeros(2, np.float32), "move": 2}
    assert_same(
        first_steps(gym.make("RAM-Catch-v0", **catch), move), first_steps(gym.make("RAM-Catch-v0", **plain), move)
    )


@pytest.mark.parametrize("value", [np.int64(1), 1, "yes", np.array([True, False])])
def test_allow_stop_still_needs_a_boolean(value):
    with pytest.raises(ValueError, match="allow_stop must be True or False"):
        gym.make("RAM-MNIST-v0", allow_stop=value)


@pytest.mark.parametrize("value", [np.float32(-0.1), np.float64(np.nan), np.bool_(True), "0.1", np.array([0.1, 0.2])])
def test_glimpse_cost_still_needs_a_number_at_least_zero(value):
    with pytest.raises(ValueError, match="glimpse_cost must be a number >= 0"):
        gym.make("RAM-MNIST-v0", glimpse_cost=value)


@pytest.mark.parametrize("zoom", [(1e-300, 1e-299), (0.0, 4.0), (1e-3, 4.0), (np.float32(1e-20), 4.0)])
def test_zoom_ranges_too_small_to_read_are_refused(zoom):
    with pytest.raises(ValueError, match=r"zoom must be .* min_width >= 0\.01 \(a narrower"):
        gym.make("RAM-MNIST-v0", zoom=zoom)


def test_no_zoom_reads_a_nan():
    env = gym.make("RAM-ClutteredMNIST100-v0", zoom=(0.01, 0.02))
    obs, _ = env.reset(seed=0)
    for z in (-1.0, 0.0, 1.0):
        for loc in ((0.0, 0.0), (-1.0, -1.0), (0.99, 0.37)):
            obs, *_ = env.step({"location": np.array(loc, np.float32), "label": 0, "zoom": np.array([z], np.float32)})
            assert np.all(np.isfinite(obs["glimpse"])) and obs in env.observation_space
        env.reset()


@pytest.mark.parametrize("zoom", [(np.bool_(True), 4.0), (True, 4.0)])
def test_zoom_widths_are_not_booleans(zoom):
    with pytest.raises(ValueError, match="zoom"):
        gym.make("RAM-MNIST-v0", zoom=zoom)
