"""RAM-Glimpse-v0: glimpse classification of a user's own images (issue 19)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import ram_env
from ram_env import GlimpseSensor
from ram_env.images import split_indices


@pytest.fixture(scope="module")
def colour():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (60, 12, 16, 3), dtype=np.uint8), rng.integers(0, 5, 60)


def test_colour_glimpses_match_the_sensor_per_channel(colour):
    images, labels = colour
    vec = gym.make_vec(
        "RAM-Glimpse-v0", num_envs=4, images=images, labels=labels, split="test", glimpse_size=4, n_scales=2
    )
    obs, info = vec.reset(seed=0)
    assert obs["glimpse"].shape == (4, 2, 3, 4, 4) and vec.single_action_space["label"].n == 5
    sensor = GlimpseSensor(4, 2)
    task = ram_env.glimpse_task(vec)
    for i in range(4):  # each channel read at the same place, as the sensor reads a grey image
        canvas = task.canvas[i]
        for c in range(3):
            want = sensor(canvas[..., c], obs["location"][i])
            np.testing.assert_allclose(obs["glimpse"][i, :, c], want, atol=1e-6)
    test = split_indices(labels, "test")  # the last 10% of each class
    assert len(test) == 6 and info["index"].tolist() == [0, 1, 2, 3] and (info["label"] == labels[test[:4]]).all()
    step = vec.step({"location": np.full((4, 2), 0.3, np.float32), "label": np.zeros(4, int)})
    assert step[0]["glimpse"].shape == (4, 2, 3, 4, 4)


def test_grey_float_images_translation_clutter_and_splits():
    rng = np.random.default_rng(1)
    x = rng.random((100, 10, 10)).astype(np.float32)
    y = np.arange(100) % 3
    env = gym.make("RAM-Glimpse-v0", images={"train": x[:80], "test": x[80:]}, labels={"train": y[:80], "test": y[80:]},
                   canvas_size=30, n_distractors=2, distractor_size=4)  # fmt: skip
    obs, info = env.reset(seed=0)
    assert obs["glimpse"].shape == (1, 8, 8) and ram_env.image_dataset(env).canvas_size == 30
    from gymnasium.utils.env_checker import check_env

    check_env(env.unwrapped, skip_render_check=True)
    assert len(ram_env.image_dataset(gym.make("RAM-Glimpse-v0", images=x, labels=y, split="validation"))) == 10


def test_npz_and_folder_loaders(tmp_path, colour):
    images, labels = colour
    np.savez(tmp_path / "one.npz", images=images, labels=labels)
    np.savez(tmp_path / "split.npz", train_images=images[:50], train_labels=labels[:50], test_images=images[50:],
             test_labels=labels[50:])  # fmt: skip
    assert len(ram_env.image_dataset(gym.make("RAM-Glimpse-v0", data=tmp_path / "one.npz", split="test"))) == 6
    assert len(ram_env.image_dataset(gym.make("RAM-Glimpse-v0", data=tmp_path / "split.npz", split="test"))) == 10
    from PIL import Image

    for k in range(2):
        (tmp_path / "pngs" / f"class{k}").mkdir(parents=True)
        for j in range(5):
            Image.fromarray(images[5 * k + j]).save(tmp_path / "pngs" / f"class{k}" / f"{j}.png")
    env = gym.make("RAM-Glimpse-v0", data=tmp_path / "pngs")
    assert env.observation_space["glimpse"].shape == (1, 3, 8, 8) and env.action_space["label"].n == 2
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, images=np.array([{"a": 1}], dtype=object), labels=labels[:1])
    with pytest.raises(ValueError, match="not a readable .npz of plain arrays"):
        gym.make("RAM-Glimpse-v0", data=pickled)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs images=X with labels=y, or data="),
        ({"images": np.zeros((5, 8)), "labels": np.zeros(5)}, r"must be \(N, H, W\) or \(N, H, W, C\)"),
        ({"images": np.zeros((5, 8, 8)), "labels": np.zeros(4)}, r"labels must have shape \(5,\)"),
        ({"images": np.full((5, 8, 8), np.nan), "labels": np.zeros(5)}, "NaN"),
        ({"images": np.zeros((0, 8, 8)), "labels": np.zeros(0)}, "empty"),
        ({"images": np.full((5, 8, 8), 2.0), "labels": np.zeros(5)}, r"must be in \[0, 1\]"),
        ({"images": np.zeros((5, 8, 8, 2)), "labels": np.zeros(5)}, "1, 3 or 4 channels"),
        ({"images": np.zeros((5, 8, 8)), "labels": np.full(5, 0.5)}, "integer classes"),
        ({"images": np.zeros((5, 8, 8)), "labels": -np.ones(5, int)}, "classes 0 .. K-1"),
        ({"data": "nowhere.npz"}, "neither an .npz file nor a folder"),
    ],
)
def test_bad_arrays_get_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make("RAM-Glimpse-v0", **kwargs)


def test_ram_sb3_show_and_bench_work_unchanged(tmp_path, colour):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    from agents import cli
    from agents.evaluation import evaluate
    from agents.ram import RAM
    from ram_env.wrappers import GridActions

    images, labels = colour
    data = tmp_path / "set.npz"
    np.savez(data, images=images, labels=labels)
    kw = {"data": str(data), "canvas_size": 20, "glimpse_size": 6, "n_scales": 2}
    agent = RAM("RAM-Glimpse-v0", seed=0, num_envs=16, env_kwargs=kw).learn(2000)
    assert evaluate(agent).episodes == 6
    path = agent.save(tmp_path / "ram.pt")
    assert path.stat().st_size < 5_000_000  # the checkpoint names the file, not the pixels
    assert cli.main(["show", str(path), "--n", "2", "--out", str(tmp_path / "g.png")]) == 0
    assert cli.main(["show", str(path), "--n", "1", "--out", str(tmp_path / "g.gif")]) == 0
    sb3_check_env(GridActions(gym.make("RAM-Glimpse-v0", **kw)), warn=False)
    with pytest.raises(Exception, match="too large to store in a checkpoint"):
        RAM("RAM-Glimpse-v0", num_envs=4, env_kwargs={"images": images, "labels": labels}).save(tmp_path / "big.pt")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"name: own\nalgos: [ram, a2c]\nenvs: [RAM-Glimpse-v0]\nseeds: [0]\nsteps: 500\neval_episodes: 6\n"
        f"env_kwargs: {{RAM-Glimpse-v0: {{data: {data}, canvas_size: 20}}}}\nhparams: {{ram: {{num_envs: 8}}}}\n"
    )
    assert cli.main(["bench", str(sweep), "--out", str(tmp_path / "bench")]) == 0
