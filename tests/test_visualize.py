"""`ram show` and `ram plot`: real images of the expected size, fixations drawn where the model looked."""

import re

import gymnasium as gym
import numpy as np
import pytest
from PIL import Image

import ram_env
from agents import cli, visualize
from agents.baselines.full_image import FullImageClassifier
from agents.ram import RAM
from agents.threads import use_free_cores
from ram_env import rendering


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    use_free_cores()
    out = tmp_path_factory.mktemp("run")
    assert (
        cli.main(
            [
                "train",
                "--env",
                "RAM-MNIST-v0",
                "--steps",
                "12288",
                "--num-envs",
                "64",
                "--out",
                str(out),
                "--no-progress",
                "--eval-episodes",
                "0",
            ]
        )
        == 0
    )
    return out


def test_recorded_fixations_are_the_models_own(model):
    agent = RAM.load(model / "model.pt")
    records = visualize.record_episodes(agent, n=3)
    env = gym.make_vec("RAM-MNIST-v0", num_envs=3, split="test")
    obs, info = env.reset(seed=0)
    state, start, seen = None, np.ones(3, bool), [obs["location"].copy()]
    for _ in range(5):
        action, state = agent.predict(obs, state, start)
        start = np.zeros(3, bool)
        obs, *_ = env.step(action)
        seen.append(obs["location"].copy())
    for i, record in enumerate(records):
        assert record.index == i and len(record.locations) == 6
        np.testing.assert_array_equal(record.locations, np.array(seen)[:, i])


def test_show_png_grid_draws_fixations_where_the_model_looked(model, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert cli.main(["show", str(model / "model.pt"), "--n", "4", "--out", str(out)]) == 0
    picture = np.asarray(Image.open(out).convert("RGB"))
    tile_h, tile_w = visualize.TILE + visualize.CAPTION, visualize.TILE
    assert picture.shape == (2 * (tile_h + 4) + 4, 2 * (tile_w + 4) + 4, 3)
    agent = RAM.load(model / "model.pt")
    records = visualize.record_episodes(agent, n=4)
    sensor = ram_env.glimpse_sensor(gym.make("RAM-MNIST-v0"))
    grid, centres = visualize.glimpse_grid(records, sensor)
    np.testing.assert_array_equal(grid, picture)
    for record, points in zip(records, centres, strict=True):
        expected = visualize.fixation_pixels(record.locations, (28, 28), visualize.TILE / 28)
        assert len(points) == 6
        for y, x in np.round(points).astype(int):  # a fixation disc there (a later number may cross its centre)
            block = picture[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3)
            assert (block == rendering.FIXATION_COLOR).all(1).any()
        np.testing.assert_allclose(points - points[0] + expected[0], expected, atol=1e-9)


def test_show_gifs_have_one_frame_per_glimpse(model, tmp_path):
    out = tmp_path / "episode.gif"
    assert cli.main(["show", str(model / "model.pt"), "--n", "2", "--out", str(out)]) == 0
    for name in ("episode-000.gif", "episode-001.gif"):
        gif = Image.open(tmp_path / name)
        assert gif.n_frames == 6 and gif.size == (486, 258)


def test_show_catch_animation(tmp_path):
    agent = RAM("RAM-Catch-v0", seed=0, num_envs=4)
    path = agent.save(tmp_path / "catch.pt")
    assert cli.main(["show", str(path), "--n", "1", "--out", str(tmp_path / "catch.gif")]) == 0
    gif = Image.open(tmp_path / "catch.gif")
    assert gif.n_frames == 24 and gif.size == (486, 258)  # the first screen and 23 steps


def test_plot_writes_curves_of_several_runs(model, tmp_path):
    out = tmp_path / "curves.png"
    assert cli.main(["plot", str(model), str(model), "--out", str(out), "--smooth", "3"]) == 0
    assert Image.open(out).size == (1350, 720)


def test_show_and_plot_errors(model, tmp_path, cli_error):
    cnn = FullImageClassifier("cnn", "RAM-MNIST-v0").save(tmp_path / "cnn.pt")
    assert re.search("no glimpses", cli_error(["show", str(cnn), "--out", str(tmp_path / "x.png")]))
    assert re.search(r"\.png", cli_error(["show", str(model / "model.pt"), "--out", str(tmp_path / "x.jpg")]))
    assert re.search("one of them", cli_error(["show", "--out", str(tmp_path / "x.png")]))
    assert re.search("no pretrained checkpoint for 'RAM-Nope-v0'", cli_error(["show", "--pretrained", "RAM-Nope-v0"]))
    assert re.search("no progress.csv", cli_error(["plot", str(tmp_path), "--out", str(tmp_path / "p.png")]))
