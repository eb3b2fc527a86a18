"""The classification environments: API conformance, rules, vectorisation, test split, bad input."""

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import ram_env
from ram_env import InvalidAction
from ram_env.registration import PAPER_SETTINGS

CLASSIFICATION_IDS = [env_id for env_id, (entry, _, _) in PAPER_SETTINGS.items() if "classification" in entry]


def act(label=0, location=(0.0, 0.0)):
    return {"location": np.asarray(location, dtype=np.float32), "label": label}


def run_episode(env, seed, locations):
    obs, info = env.reset(seed=seed)
    seen = [obs]
    for loc in locations:
        obs, reward, terminated, truncated, info = env.step(act(0, loc))
        seen.append(obs)
    return seen, reward, terminated, info


@pytest.mark.parametrize("env_id", CLASSIFICATION_IDS)
@pytest.mark.parametrize("render_mode", [None, "rgb_array", "human"])
def test_gymnasium_check_env(env_id, render_mode):
    env = gym.make(env_id, render_mode=render_mode)
    check_env(env.unwrapped, skip_render_check=render_mode is None)
    env.close()


@pytest.mark.parametrize("env_id", CLASSIFICATION_IDS)
def test_paper_settings_and_spaces(env_id):
    env = gym.make(env_id)
    kw = PAPER_SETTINGS[env_id][2]
    k, g = kw["n_scales"], kw["glimpse_size"]
    assert env.observation_space["glimpse"].shape == (k, g, g)
    assert env.observation_space["location"].shape == (2,)
    assert env.action_space["label"].n == 10
    obs, info = env.reset(seed=0)
    assert obs in env.observation_space
    steps = 0
    terminated = False
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        assert not truncated
        assert isinstance(reward, float) and isinstance(terminated, bool)
        assert reward == 0.0 or terminated
    assert steps == kw["n_glimpses"]
    assert ram_env.glimpse_task(env).canvas.shape[1:] == (kw["canvas_size"],) * 2


def test_reward_is_one_for_the_true_label_at_the_last_step_only():
    env = gym.make("RAM-MNIST-v0", n_glimpses=3)
    for guess_right in (True, False):
        obs, info = env.reset(seed=3)
        label = info["label"]
        for _ in range(2):
            _, reward, terminated, _, _ = env.step(act(label))
            assert reward == 0.0 and not terminated
        _, reward, terminated, _, _ = env.step(act(label if guess_right else (label + 1) % 10))
        assert terminated and reward == (1.0 if guess_right else 0.0)


def test_glimpse_is_taken_where_asked_and_clipped():
    env = gym.make("RAM-TranslatedMNIST-v0")
    obs, _ = env.reset(seed=1, options={"initial_location": "center"})
    np.testing.assert_array_equal(obs["location"], [0, 0])
    obs, *_ = env.step(act(0, (5.0, -0.25)))
    np.testing.assert_array_equal(obs["location"], np.float32([1.0, -0.25]))
    task = ram_env.glimpse_task(env)
    expected = task.sensor(task.canvas[0], np.array([1.0, -0.25]))
    np.testing.assert_array_equal(obs["glimpse"], expected)
    obs, *_ = env.reset(seed=1, options={"initial_location": (0.5, -0.5)})
    np.testing.assert_array_equal(obs["location"], np.float32([0.5, -0.5]))


@pytest.mark.parametrize("env_id", CLASSIFICATION_IDS)
def test_same_seed_same_episode(env_id):
    locations = np.random.default_rng(0).uniform(-1, 1, (3, 2))
    a, ra, _, ia = run_episode(gym.make(env_id), 42, locations)
    b, rb, _, ib = run_episode(gym.make(env_id), 42, locations)
    c, _, _, ic = run_episode(gym.make(env_id), 43, locations)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x["glimpse"], y["glimpse"])
    assert ia == ib
    assert not np.array_equal(a[0]["glimpse"], c[0]["glimpse"]) or ia != ic


def test_pickle_round_trip_continues_identically():
    env = gym.make("RAM-ClutteredMNIST-v0")
    env.reset(seed=5)
    env.step(act(0, (0.1, 0.2)))
    clone = pickle.loads(pickle.dumps(env))
    for loc in [(0.3, -0.4), (-0.9, 0.9)]:
        o1, *_ = env.step(act(1, loc))
        o2, *_ = clone.step(act(1, loc))
        np.testing.assert_array_equal(o1["glimpse"], o2["glimpse"])


@pytest.mark.parametrize("env_id", CLASSIFICATION_IDS)
def test_vector_env_equals_single_envs(env_id):
    n, seed = 3, 7
    vec = gym.make_vec(env_id, num_envs=n)
    assert isinstance(vec.unwrapped, ram_env.GlimpseClassificationVectorEnv)
    singles = [gym.make(env_id) for _ in range(n)]
    obs_v, info_v = vec.reset(seed=seed)
    obs_s = [s.reset(seed=seed + i)[0] for i, s in enumerate(singles)]
    done = [False] * n
    rng = np.random.default_rng(0)
    length = PAPER_SETTINGS[env_id][2]["n_glimpses"]
    for _ in range(2 * length + 3):  # crosses two autoresets
        for i in range(n):
            np.testing.assert_array_equal(obs_v["glimpse"][i], obs_s[i]["glimpse"])
            np.testing.assert_array_equal(obs_v["location"][i], obs_s[i]["location"])
        actions = {"location": rng.uniform(-1.2, 1.2, (n, 2)).astype(np.float32), "label": rng.integers(0, 10, n)}
        obs_v, rew_v, term_v, trunc_v, info_v = vec.step(actions)
        for i, env in enumerate(singles):
            if done[i]:
                obs_s[i], info = env.reset()
                reward, terminated = 0.0, False
            else:
                obs_s[i], reward, terminated, _, info = env.step(
                    {"location": actions["location"][i], "label": int(actions["label"][i])}
                )
            done[i] = terminated
            assert rew_v[i] == reward and term_v[i] == terminated and not trunc_v[i]
            assert info_v["label"][i] == info["label"] and info_v["index"][i] == info["index"]


def test_test_split_covers_every_image_exactly_once_with_fixed_content():
    n = 250
    vec = gym.make_vec("RAM-ClutteredMNIST-v0", num_envs=n, split="test", n_glimpses=2, initial_location="center")
    obs, info = vec.reset(seed=0)
    seen = []
    first_glimpse = {}
    zeros = {"location": np.zeros((n, 2), np.float32), "label": np.zeros(n, np.int64)}
    fresh = np.ones(n, bool)
    while len(seen) < 10_000:
        for i in np.flatnonzero(fresh):
            first_glimpse[int(info["index"][i])] = obs["glimpse"][i].copy()
        obs, reward, terminated, truncated, info = vec.step(zeros)
        seen.extend(info["index"][terminated].tolist())
        fresh = np.zeros(n, bool)
        if terminated.any():  # next step resets them: record the new episodes' first glimpse then
            obs, reward, terminated, truncated, info = vec.step(zeros)
            fresh = np.ones(n, bool)
    assert sorted(seen) == list(range(10_000))
    labels = ram_env.mnist.load_split("test")[1]
    # a single env visits the same images in order, with the same clutter
    env = gym.make("RAM-ClutteredMNIST-v0", split="test", initial_location="center")
    for k in range(3):
        obs, info = env.reset(seed=0) if k == 0 else env.reset()
        assert info["index"] == k and info["label"] == labels[k]
        np.testing.assert_array_equal(obs["glimpse"], first_glimpse[k])
        while not env.step(act())[2]:
            pass
    obs, info = env.reset(options={"index": 1234})
    np.testing.assert_array_equal(obs["glimpse"], first_glimpse[1234])


@pytest.mark.parametrize(
    "action, message",
    [
        ({"location": np.zeros(3), "label": 0}, "shape"),
        ({"location": np.array([np.nan, 0.0]), "label": 0}, "finite"),
        ({"location": np.array([0.0, np.inf]), "label": 0}, "finite"),
        ({"location": np.zeros(2), "label": 10}, r"\[0, 10\)"),
        ({"location": np.zeros(2), "label": -1}, r"\[0, 10\)"),
        ({"location": np.zeros(2), "label": 2.5}, "label"),
        ({"location": np.zeros(2), "label": np.array([1, 2])}, "label"),
        ({"location": np.zeros(2)}, "keys"),
        ({"location": np.zeros(2), "label": 1, "move": 0}, "keys"),
        (np.zeros(3), "dict"),
        ({"location": "here", "label": 1}, "numeric"),
    ],
)
def test_bad_actions_raise_clear_errors(action, message):
    env = gym.make("RAM-MNIST-v0").unwrapped
    env.reset(seed=0)
    with pytest.raises(InvalidAction, match=message):
        env.step(action)


def test_bad_vector_actions():
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=4)
    vec.reset(seed=0)
    with pytest.raises(InvalidAction, match=r"\(4, 2\)"):
        vec.step({"location": np.zeros((3, 2)), "label": np.zeros(4, int)})
    with pytest.raises(InvalidAction, match="finite"):
        vec.step({"location": np.full((4, 2), np.nan), "label": np.zeros(4, int)})
    with pytest.raises(InvalidAction, match=r"\[0, 10\)"):
        vec.step({"location": np.zeros((4, 2)), "label": np.array([0, 1, 2, 11])})


def test_step_before_reset_and_after_end():
    env = ram_env.GlimpseClassificationEnv(n_glimpses=1)
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(act())
    env.reset(seed=0)
    _, _, terminated, _, _ = env.step(act())
    assert terminated
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step(act())
    vec = ram_env.GlimpseClassificationVectorEnv(num_envs=2)
    with pytest.raises(RuntimeError, match="before reset"):
        vec.step({"location": np.zeros((2, 2)), "label": np.zeros(2, int)})


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_glimpse=3), "n_glimpse"),
        (dict(n_glimpses=0), "n_glimpses"),
        (dict(n_glimpses=-2), "n_glimpses"),
        (dict(glimpse_size=40), "glimpse_size"),
        (dict(glimpse_size=0), "glimpse_size"),
        (dict(split="dev"), "split"),
        (dict(n_distractors=-1), "n_distractors"),
        (dict(scale_factor=0.5, n_scales=2), "scale_factor"),
        (dict(initial_location="corner"), "initial_location"),
        (dict(render_mode="ansi"), "render_mode"),
    ],
)
def test_bad_keywords_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        gym.make("RAM-MNIST-v0", **kwargs)
    if name != "render_mode":
        with pytest.raises(ValueError, match=name):
            gym.make_vec("RAM-MNIST-v0", num_envs=2, **kwargs)


def test_bad_reset_options():
    env = gym.make("RAM-MNIST-v0")
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"idx": 3})
    with pytest.raises(ValueError, match="index"):
        env.reset(options={"index": 60_000})
    with pytest.raises(ValueError, match="initial_location"):
        env.reset(options={"initial_location": (2.0, 0.0)})


def test_every_keyword_overrides_through_make():
    env = gym.make(
        "RAM-ClutteredMNIST-v0",
        n_glimpses=4,
        glimpse_size=6,
        n_scales=2,
        scale_factor=3,
        canvas_size=40,
        n_distractors=2,
        distractor_size=5,
        split="validation",
    )
    obs, info = env.reset(seed=0)
    assert obs["glimpse"].shape == (2, 6, 6)
    assert ram_env.glimpse_task(env).canvas.shape == (1, 40, 40)
    assert info["index"] == 0


def test_rendering():
    env = gym.make("RAM-ClutteredMNIST-v0", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(act(0, (0.5, 0.5)))
    frame = env.render()
    assert frame.shape == (300, 300, 3) and frame.dtype == np.uint8
    # the retina squares are drawn in colour on the grey image
    assert np.any(frame[..., 0] != frame[..., 1])
    human = gym.make("RAM-MNIST-v0", render_mode="human")
    human.reset(seed=0)
    human.step(act())
    human.close()
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=3, render_mode="rgb_array")
    vec.reset(seed=0)
    frames = vec.render()
    assert len(frames) == 3 and all(f.shape == (308, 308, 3) for f in frames)


def test_module_prefixed_ids_work_without_importing_ram_env():
    import subprocess
    import sys

    code = (
        "import gymnasium as gym\n"
        "env = gym.make('ram_env:RAM-ClutteredMNIST-v0')\n"
        "obs, info = env.reset(seed=0)\n"
        "vec = gym.make_vec('ram_env:RAM-Catch-v0', num_envs=2)\n"
        "print(obs['glimpse'].shape, type(vec.unwrapped).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "(3, 12, 12) CatchVectorEnv" in result.stdout


def test_test_episodes_are_the_same_for_every_seed():
    """On the fixed splits the first fixation is fixed by the image index too: a test
    image's episode is the same whichever seed or reset leads to it."""
    for split in ("test", "validation"):
        env = gym.make("RAM-ClutteredMNIST-v0", split=split)
        a = [env.reset(seed=0), env.reset(), env.reset()]  # images 0, 1, 2
        b = [env.reset(seed=1), env.reset(), env.reset()]  # images 1, 2, 3
        for (obs_a, info_a), (obs_b, info_b) in zip(a[1:], b[:2], strict=True):
            assert info_a["index"] == info_b["index"]
            np.testing.assert_array_equal(obs_a["location"], obs_b["location"])
            np.testing.assert_array_equal(obs_a["glimpse"], obs_b["glimpse"])
        assert len({tuple(o["location"]) for o, _ in a}) == 3  # still random across images
    vec = gym.make_vec("RAM-ClutteredMNIST-v0", num_envs=4, split="test")
    obs, info = vec.reset(seed=5)
    single = gym.make("RAM-ClutteredMNIST-v0", split="test")
    first, _ = single.reset(seed=9, options={"index": int(info["index"][2])})
    assert info["index"].tolist() == [5, 6, 7, 8]
    # the index option on a fixed split gives that image's fixed episode as well
    np.testing.assert_array_equal(first["location"], obs["location"][2])


def test_rollouts_per_image_groups_envs_on_one_image():
    vec = gym.make_vec("RAM-ClutteredMNIST-v0", num_envs=6, rollouts_per_image=3)
    obs, info = vec.reset(seed=0)
    task = ram_env.glimpse_task(vec)
    for group in (slice(0, 3), slice(3, 6)):
        assert len(set(info["index"][group].tolist())) == 1
        assert (task.canvas[group] == task.canvas[group][:1]).all()
        assert len({tuple(loc) for loc in obs["location"][group]}) == 3  # different first fixations
    assert info["index"][0] != info["index"][3]
    with pytest.raises(ValueError, match="rollouts_per_image=4 must divide num_envs=6"):
        gym.make_vec("RAM-ClutteredMNIST-v0", num_envs=6, rollouts_per_image=4)
    with pytest.raises(ValueError, match="rollouts_per_image must be an integer >= 1"):
        gym.make("RAM-ClutteredMNIST-v0", rollouts_per_image=0)


def test_initial_location_none_lets_the_agent_choose_every_fixation():
    env = gym.make("RAM-ClutteredMNIST-v0", initial_location="none")
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert not obs["glimpse"].any() and (obs["location"] == 0).all()
    chosen = np.linspace(-0.8, 0.8, 9, dtype=np.float32)[:, None].repeat(2, 1)
    steps, done = 0, False
    while not done:
        obs, reward, done, _, info = env.step({"location": chosen[steps], "label": 0})
        steps += 1
        if not done:  # every glimpse is at the location the agent chose
            np.testing.assert_array_equal(obs["location"], chosen[steps - 1])
            want = ram_env.glimpse_sensor(env)(ram_env.episode_image(env), chosen[steps - 1])
            np.testing.assert_allclose(obs["glimpse"], want, atol=1e-6)
    assert steps == 8 + 1  # n_glimpses glimpses, all chosen, then the label
    assert ram_env.glimpse_task(env).path_length[0] == 8
    vec = gym.make_vec("RAM-ClutteredMNIST-v0", num_envs=3)
    obs, _ = vec.reset(seed=0, options={"initial_location": "none"})
    assert not obs["glimpse"].any()
    for _ in range(8):
        _, _, terminated, _, _ = vec.step({"location": np.zeros((3, 2), np.float32), "label": np.zeros(3, int)})
        assert not terminated.any()
    assert vec.step({"location": np.zeros((3, 2), np.float32), "label": np.zeros(3, int)})[2].all()
