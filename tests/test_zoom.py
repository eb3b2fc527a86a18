"""The paper's second extension: the agent chooses the scale of each glimpse (``zoom=(a, b)``),
read by the sensor at that width and learned by the RAM as a third location output."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import ram_env
from ram_env.core import zoom_widths
from ram_env.sensor import GlimpseSensor
from ram_env.wrappers import BoxActions, DiscreteActions, GridActions, HistoryBuffer

LOCATION = np.array([0.1, -0.2], np.float32)


def _glimpse_at(zoom: float, env_id: str = "RAM-TranslatedMNIST-v0") -> tuple[np.ndarray, np.ndarray, dict]:
    """The second glimpse of test image 3, taken at LOCATION with ``zoom``; and the canvas."""
    env = gym.make(env_id, split="test", n_scales=1, glimpse_size=8, zoom=(4, 16))
    env.reset(seed=0, options={"index": 3})
    obs, *_ = env.step({"location": LOCATION, "label": 0, "zoom": np.array([zoom], np.float32)})
    return obs["glimpse"][0], ram_env.glimpse_task(env).canvas[0], obs


def test_zoom_maps_the_action_to_widths_geometrically():
    widths = zoom_widths(np.array([-1.0, 0.0, 1.0, 7.0, -3.0]), (4.0, 16.0))
    np.testing.assert_allclose(widths, [4.0, 8.0, 16.0, 16.0, 4.0])  # a, sqrt(ab), b; clipped beyond


def test_zoomed_glimpses_match_the_sensor_reference():
    # z = 0: the middle width 8 = glimpse_size, exactly the fixed-scale sensor's patch
    glimpse, canvas, obs = _glimpse_at(0.0)
    reference = GlimpseSensor(8)(canvas[None], LOCATION[None])[0, 0]
    np.testing.assert_allclose(glimpse, reference, atol=1e-6)
    assert obs["zoom"].tolist() == [0.0] and obs["location"].tolist() == pytest.approx(LOCATION.tolist())
    # z = 1: 16 pixels at 8x8 = the second scale of a two-scale retina (2x2 pixel cells)
    glimpse, canvas, obs = _glimpse_at(1.0)
    reference = GlimpseSensor(8, n_scales=2, scale_factor=2.0)(canvas[None], LOCATION[None])[0, 1]
    np.testing.assert_allclose(glimpse, reference, atol=1e-6)
    assert obs["zoom"].tolist() == [1.0]
    # z = -1: 4 pixels at 8x8 = the 4x4 crop magnified twice (half-pixel cells)
    glimpse, canvas, _ = _glimpse_at(-1.0)
    crop = GlimpseSensor(4).crop(canvas[None], LOCATION[None])[0, 0]
    np.testing.assert_allclose(glimpse, np.kron(crop, np.ones((2, 2))), atol=1e-6)
    assert glimpse.min() >= 0.0 and glimpse.max() <= 1.0


def test_zoom_env_spaces_first_glimpse_and_rendering():
    env = gym.make("RAM-ClutteredMNIST-v0", zoom=(6, 24), render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=True)
    assert env.action_space["zoom"] == gym.spaces.Box(-1, 1, (1,), np.float32)
    assert env.observation_space["zoom"] == gym.spaces.Box(-1, 1, (1,), np.float32)
    obs, _ = env.reset(seed=0)
    assert obs["zoom"].tolist() == [0.0]  # the first glimpse: the middle of the range, 12 pixels
    task = ram_env.glimpse_task(env)
    assert task.widths(np.array([0])).tolist() == pytest.approx([12.0])
    small = env.render()
    env.step({"location": np.zeros(2, np.float32), "label": 0, "zoom": np.array([5.0], np.float32)})  # clipped
    assert task.zoom.tolist() == [[1.0]]
    assert not np.array_equal(small, env.render())  # the drawn retina grew
    boxes = task.sensor.patch_boxes(task.location[0], 60, 60, widths=zoom_widths(task.zoom[0], (6, 24)))
    assert (boxes[:, 2] - boxes[:, 0]).tolist() == [24.0, 48.0, 96.0]  # 3 scales, finest 24 pixels


def test_zoom_vector_env_equals_single_envs():
    kwargs = {"zoom": (4, 16), "n_glimpses": 4}
    vec = gym.make_vec("RAM-TranslatedMNIST-v0", num_envs=3, **kwargs)
    singles = [gym.make("RAM-TranslatedMNIST-v0", **kwargs) for _ in range(3)]
    obs, _ = vec.reset(seed=5)
    single_obs = [e.reset(seed=5 + i)[0] for i, e in enumerate(singles)]
    rng = np.random.default_rng(0)
    for _ in range(3):
        action = {
            "location": rng.uniform(-1, 1, (3, 2)).astype(np.float32),
            "label": np.zeros(3, np.int64),
            "zoom": rng.uniform(-1, 1, (3, 1)).astype(np.float32),
        }
        obs, *_ = vec.step(action)
        single_obs = [
            e.step({k: v[i] if k != "label" else 0 for k, v in action.items()})[0] for i, e in enumerate(singles)
        ]
        for i in range(3):
            for key in ("glimpse", "location", "zoom"):
                np.testing.assert_array_equal(obs[key][i], single_obs[i][key])


def test_bad_zoom_keywords_and_actions_are_named():
    for bad, match in [
        ((4, 2), "0 < min_width < max_width"),
        ((0, 4), "0 < min_width < max_width"),
        ("48", "zoom must be None or"),
        ((4, 200), "more than 4 times"),
        ((4, np.nan), "0 < min_width < max_width"),
    ]:
        with pytest.raises(ValueError, match=match):
            gym.make("RAM-MNIST-v0", zoom=bad)
    env = gym.make("RAM-MNIST-v0", zoom=(4, 16))
    env.reset(seed=0)
    act = {"location": np.zeros(2, np.float32), "label": 0}
    for zoom, match in [(np.array([np.nan]), "must be finite"), (np.zeros(2), r"shape \(1,\)"), ("a", "not numeric")]:
        with pytest.raises(ram_env.InvalidAction, match=match):
            env.step({**act, "zoom": zoom})
    with pytest.raises(ram_env.InvalidAction, match="keys"):
        env.step(act)  # the zoom is part of the action


def test_own_colour_images_take_zoomed_glimpses():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 16, 16, 3), dtype=np.uint8)
    env = gym.make("RAM-Glimpse-v0", images=images, labels=np.arange(20) % 4, zoom=(2, 8), glimpse_size=4)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs["glimpse"].shape == (1, 3, 4, 4) and obs["zoom"].shape == (1,)


@pytest.mark.parametrize("wrapper", [GridActions, DiscreteActions, BoxActions])
def test_the_sb3_encodings_carry_the_zoom(wrapper):
    env = wrapper(gym.make("RAM-MNIST-v0", zoom=(4, 16), allow_stop=True))
    sb3_check_env(env, warn=False)
    env.reset(seed=0)
    # go on (no stop) at the widest zoom: grid index 2 of zooms (-1, 0, 1)
    action = {
        GridActions: np.array([12, 0, 0, 2]),
        DiscreteActions: ((4 * 10 + 0) * 2 + 0) * 3 + 2,
        BoxActions: np.r_[np.zeros(12), -1.0, 1.0],
    }[wrapper]
    obs, _, terminated, *_ = env.step(action)
    assert not terminated and obs["zoom"].tolist() == [1.0]


def test_history_keeps_the_zoom():
    env = gym.make_vec("RAM-MNIST-v0", num_envs=2, zoom=(4, 16))
    history = HistoryBuffer(2, 3, env.single_observation_space)
    obs, _ = env.reset(seed=0)
    history.push(obs)
    assert set(history.space.spaces) == {"glimpse", "location", "zoom", "valid"}
    assert history.observe()["zoom"].shape == (2, 3, 1)


def test_the_ram_learns_a_zoom_policy_and_round_trips(tmp_path):
    from agents.ram import RAM
    from agents.visualize import record_episodes

    agent = RAM("RAM-MNIST-v0", seed=0, num_envs=32, env_kwargs={"zoom": (4, 16)})
    assert agent.has_zoom and agent.policy.location_network.mean.out_features == 3
    assert agent.policy.glimpse_network.where.in_features == 3
    before = agent.policy.location_network.mean.weight.detach()[2].clone()
    agent.learn(20_000)
    assert not np.allclose(before.numpy(), agent.policy.location_network.mean.weight.detach()[2].numpy())
    env = gym.make("RAM-MNIST-v0", zoom=(4, 16))
    obs, _ = env.reset(seed=0)
    action, state = agent.predict(obs)
    assert action["zoom"].shape == (1,) and -1 <= action["zoom"][0] <= 1
    env.step(action)
    with pytest.raises(ValueError, match="zoom"):
        agent.predict({"glimpse": obs["glimpse"], "location": obs["location"]})  # the zoom is missing
    path = agent.save(tmp_path / "zoom.pt")
    loaded = RAM.load(path)
    again, _ = loaded.predict(obs)
    np.testing.assert_array_equal(again["zoom"], action["zoom"])
    records = record_episodes(loaded, n=2)
    assert records[0].widths is not None and len(records[0].widths) == len(records[0].locations)
    assert np.all((records[0].widths >= 4) & (records[0].widths <= 16))


def test_ram_sb3_show_and_bench_take_the_zoom_on_own_images(tmp_path):
    from agents import cli
    from agents.ram import RAM

    rng = np.random.default_rng(1)
    data = tmp_path / "set.npz"
    np.savez(data, images=rng.integers(0, 256, (24, 12, 12), dtype=np.uint8), labels=np.arange(24) % 3)
    kw = {"data": str(data), "canvas_size": 20, "glimpse_size": 4, "zoom": [2, 8], "allow_stop": True}
    path = RAM("RAM-Glimpse-v0", seed=0, num_envs=8, env_kwargs=kw).learn(500).save(tmp_path / "ram.pt")
    assert cli.main(["show", str(path), "--n", "2", "--all-scales", "--out", str(tmp_path / "g.png")]) == 0
    assert cli.main(["show", str(path), "--n", "1", "--out", str(tmp_path / "g.gif")]) == 0
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"name: zoom\nalgos: [ram, ppo]\nenvs: [RAM-Glimpse-v0]\nseeds: [0]\nsteps: 500\neval_episodes: 2\n"
        f"env_kwargs: {{RAM-Glimpse-v0: {{data: {data}, canvas_size: 20, zoom: [2, 8]}}}}\n"
        "hparams: {ram: {num_envs: 8}}\n"
    )
    assert cli.main(["bench", str(sweep), "--out", str(tmp_path / "bench")]) == 0
