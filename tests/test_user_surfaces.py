"""What a researcher's own code and command lines get: clear refusals instead of silent wrong
answers, nothing imported because a file names it, and the Python API's own progress and
thread choice.  Each test fails without the fix it guards."""

import json
import sys

import gymnasium as gym
import numpy as np
import pytest

from agents import cli
from agents.evaluation import check_episodes, evaluate
from agents.ram import RAM, RAMConfig


def test_resume_with_settings_never_imports_the_module_config_json_names(tmp_path, cli_error):
    out = tmp_path / "run"
    base = ["train", "--env", "RAM-MNIST-v0", "--out", str(out), "--no-progress", "--no-tensorboard"]
    assert cli.main([*base, "--steps", "600", "--minutes", "0.001", "--set", "num_envs=8"]) == 0
    planted = tmp_path / "planted_module.py"
    planted.write_text("open(__file__ + '.ran', 'w').write('ran')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        record = json.loads((out / "config.json").read_text())
        record["algo"] = "planted_module:Agent"
        (out / "config.json").write_text(json.dumps(record))
        for extra in (["--set", "num_envs=8"], ["--env-arg", "n_glimpses=6"], ["--num-envs", "8"]):
            message = cli_error([*base, "--resume", *extra])
            assert "neither built in nor installed" in message and "--algo planted_module:Agent" in message
        assert not (tmp_path / "planted_module.py.ran").exists()
        assert "planted_module" not in sys.modules
    finally:
        sys.path.remove(str(tmp_path))


@pytest.mark.parametrize(
    "setting, message",
    [
        ("entropy_coef=.nan", "entropy_coef must be a finite number"),
        ("learning_rate=.inf", "learning_rate must be a finite number"),
        ("learning_rate=-.inf", "learning_rate must be a finite number"),
        ("supervised=maybe", "supervised must be bool or None"),
        ("core=3", "core must be str or None"),
    ],
)
def test_bad_hyper_parameters_are_refused_before_training(tmp_path, cli_error, setting, message):
    argv = ["train", "--env", "RAM-MNIST-v0", "--steps", "600", "--out", str(tmp_path / "r"), "--set", setting]
    assert message in cli_error(argv)
    assert not (tmp_path / "r" / "progress.csv").exists()


def test_the_eval_episode_count_is_checked_before_training(tmp_path, cli_error):
    argv = ["train", "--env", "RAM-MNIST-v0", "--steps", "600", "--out", str(tmp_path / "r")]
    assert "n_episodes must be in [1, 10000]" in cli_error([*argv, "--eval-episodes", "10001"])
    assert not (tmp_path / "r" / "checkpoint.pt").exists()
    with pytest.raises(ValueError, match="positive integer"):
        check_episodes("RAM-MNIST-v0", {}, -3)


def test_a_plugin_that_does_not_train_to_its_budget_is_an_error(tmp_path, cli_error):
    argv = [
        "train",
        "--algo",
        "plugin_agents:Idle",
        "--env",
        "RAM-MNIST-v0",
        "--out",
        str(tmp_path / "r"),
        "--no-progress",
    ]
    assert "returned after 0 of 600 env steps without being asked to stop" in cli_error(argv)


def test_majority_vote_counts_every_class_of_an_own_image_set():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (300, 16, 16), dtype=np.uint8)
    labels = np.arange(300) % 12  # 12 classes: more than MNIST's 10
    kwargs = {"images": images, "labels": labels, "canvas_size": 16, "glimpse_size": 8}
    agent = RAM("RAM-Glimpse-v0", RAMConfig(num_envs=8, hidden_size=16, env_kwargs=kwargs), seed=0)
    result = evaluate(agent, mc_samples=3)
    assert 0 <= result.mean_reward <= 1 and result.mc_samples == 3


def test_evaluate_names_what_a_model_without_env_id_needs():
    class PlainModel:  # e.g. a Stable-Baselines3 model used directly
        def predict(self, observation, state=None, episode_start=None, deterministic=True):
            raise AssertionError("not reached")

    with pytest.raises(ValueError, match="has no env_id, so pass env_id="):
        evaluate(PlainModel())


def test_learn_chooses_threads_as_the_cli_does_and_shows_progress(capsys):
    import torch

    from agents import threads

    agent = RAM("RAM-MNIST-v0", RAMConfig(num_envs=16, hidden_size=16), seed=0)
    agent.learn(200, threads=1, progress_bar=True)
    assert torch.get_num_threads() == 1
    assert "ram RAM-MNIST-v0" in capsys.readouterr().err  # the tqdm bar
    threads.use_free_cores(1)  # what ram train --threads 1 does
    agent.learn(200)  # "auto" keeps the process's choice
    assert torch.get_num_threads() == 1
    with pytest.raises(ValueError, match="threads must be 'auto', None or a positive integer"):
        agent.learn(200, threads=0)


def test_ram_takes_a_config_and_refuses_a_positional_seed():
    agent = RAM("RAM-MNIST-v0", RAMConfig(num_envs=8, location_std=0.2), seed=0, hidden_size=32)
    assert (agent.config.num_envs, agent.config.location_std, agent.config.hidden_size) == (8, 0.2, 32)
    with pytest.raises(TypeError, match="config must be a RAMConfig"):
        RAM("RAM-MNIST-v0", 0)  # type: ignore[arg-type]
    env = agent.make_env(split="validation")
    assert isinstance(env.unwrapped, gym.Env) and env.reset(seed=3)[1]["index"] == 3


def test_an_agent_on_images_under_a_bytes_path_saves_and_loads(tmp_path):
    import os

    rng = np.random.default_rng(0)
    folder = tmp_path / "set.npz"
    np.savez(folder, images=rng.integers(0, 255, (60, 16, 16), dtype=np.uint8), labels=np.arange(60) % 3)
    kwargs = {"data": os.fsencode(folder), "canvas_size": 16, "glimpse_size": 8}
    agent = RAM("RAM-Glimpse-v0", RAMConfig(num_envs=4, hidden_size=8, env_kwargs=kwargs), seed=0)
    loaded = RAM.load(agent.save(tmp_path / "a.pt"))
    assert loaded.env_kwargs["data"] == str(folder)


def test_ram_envs_and_eval_name_the_env_a_shipped_model_is_scored_on(capsys):
    assert cli.main(["envs"]) == 0
    listed = capsys.readouterr().out
    assert "gym.make(\"RAM-ClutteredMNIST-v0\", initial_location='center'): 4.02% test error" in listed
    assert cli.main(["eval", "--pretrained", "RAM-ClutteredMNIST-v0", "--episodes", "100", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["env_kwargs"]["initial_location"] == "center"
    assert cli.main(["eval", "--pretrained", "RAM-TranslatedMNIST-v0", "--episodes", "100"]) == 0
    assert "RAM-TranslatedMNIST-v0 (" in capsys.readouterr().out and "initial_location='center'" in listed
