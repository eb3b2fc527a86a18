"""The agent contract and the one algorithm table: a throwaway algorithm added with one
table entry runs through `ram train`, `ram eval` and `ram bench` unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import ram_env
from agents import cli
from agents.base import Agent, Algorithm, GlimpseAgent, ImageClassifier
from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.registry import ALGORITHMS, algorithm, register_algorithm


class CentreStarer:
    """Looks at the centre and guesses the label it saw most often in training: a real,
    tiny learner (the majority class) that meets the agent contract."""

    algo = "centre-starer"
    track = "rl"

    def __init__(self, env_id: str, seed: int | None = 0, env_kwargs: dict | None = None) -> None:
        self.env_id, self.seed, self.env_kwargs = env_id, seed, dict(env_kwargs or {})
        self.num_timesteps = 0
        self.counts = np.zeros(10)

    def learn(self, total_timesteps, callback=None, reset_num_timesteps=True):
        envs = gym.make_vec(self.env_id, num_envs=8, **self.env_kwargs)
        envs.reset(seed=self.seed)
        while self.num_timesteps < total_timesteps:
            guess = np.full(8, int(self.counts.argmax()))
            _, reward, terminated, _, _ = envs.step({"location": np.zeros((8, 2), np.float32), "label": guess})
            self.num_timesteps += 8
            self.counts[guess[terminated & (reward > 0)]] += 1  # rewarded guesses only: no info["label"]
            if (
                callback is not None
                and callback({"env_steps": self.num_timesteps, "reward": float(reward.mean())}) is False
            ):
                break
        return self

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        n = np.shape(observation["location"])[0]
        return {"location": np.zeros((n, 2), np.float32), "label": np.full(n, int(self.counts.argmax()))}, state

    def save(self, path, extra=None):
        return save_checkpoint(
            path,
            {
                "algo": self.algo,
                "env_id": self.env_id,
                "config": {"seed": self.seed},
                "model": {},
                "counts": self.counts.tolist(),
                "num_timesteps": self.num_timesteps,
            },
        )

    @classmethod
    def load(cls, path, env_id=None):
        data = load_checkpoint(path, algo=cls.algo, env_id=env_id)
        agent = cls(data["env_id"], data["config"]["seed"])
        agent.counts, agent.num_timesteps = np.array(data["counts"]), data["num_timesteps"]
        return agent


@pytest.fixture
def throwaway():
    entry = register_algorithm(
        Algorithm(
            "centre-starer",
            make=lambda env_id, seed, hparams, env_kwargs: CentreStarer(env_id, seed, env_kwargs),
            load=lambda path, env_id: CentreStarer.load(path, env_id),
            default_steps=800,
            settings=lambda env_id, hparams: dict(hparams),
            description="looks at the centre, names the most rewarded label",
        )
    )
    yield entry
    del ALGORITHMS["centre-starer"]


def test_builtin_agents_meet_the_contract():
    from agents.ram import RAM

    agent = RAM("RAM-MNIST-v0", num_envs=4)
    assert isinstance(agent, Agent) and isinstance(agent, GlimpseAgent) and not isinstance(agent, ImageClassifier)
    assert set(ALGORITHMS) >= {"ram", "ram-rl", "ppo", "a2c", "dqn", "recurrent-ppo", "fc", "cnn"}
    with pytest.raises(ValueError, match="unknown algorithm .nope.; choose one of ram, ram-rl, ppo"):
        algorithm("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_algorithm(ALGORITHMS["ram"])


def test_one_table_entry_runs_through_train_eval_and_bench(throwaway, tmp_path, capsys):
    assert isinstance(CentreStarer("RAM-MNIST-v0"), GlimpseAgent)
    out = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "--algo",
                "centre-starer",
                "--env",
                "RAM-MNIST-v0",
                "--out",
                str(out),
                "--no-progress",
                "--no-tensorboard",
                "--eval-episodes",
                "100",
            ]
        )
        == 0
    )
    assert json.loads((out / "eval.json").read_text())["episodes"] == 100
    assert CentreStarer.load(out / "model.pt").num_timesteps >= 800  # the table's default budget
    capsys.readouterr()
    assert cli.main(["eval", str(out / "model.pt"), "--episodes", "50", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["episodes"] == 50
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        "name: t\nalgos: [centre-starer]\nenvs: [RAM-MNIST-v0]\nseeds: [0]\nsteps: 96\neval_episodes: 20\n"
    )
    assert cli.main(["bench", str(sweep), "--out", str(tmp_path / "bench")]) == 0
    rows = (tmp_path / "bench" / "results.csv").read_text().splitlines()
    assert len(rows) == 2 and ",ok," in rows[1]


def test_env_surface_for_agents():
    env = gym.make("RAM-ClutteredMNIST-v0")
    vec = gym.make_vec("RAM-Catch-v0", num_envs=3)
    assert ram_env.task_kind(env) == "classification" and ram_env.task_kind(vec) == "control"
    assert ram_env.glimpse_sensor(env).shape == (3, 12, 12)
    assert len(ram_env.image_dataset(env)) == 55_000
    with pytest.raises(ValueError, match="control environment has no image dataset"):
        ram_env.image_dataset(vec)
    with pytest.raises(RuntimeError, match="before reset"):
        ram_env.episode_image(vec, 0)
    vec.reset(seed=0)
    assert ram_env.episode_image(vec, 2).shape == (24, 24)
    state = ram_env.get_rng_state(vec)
    first = vec.reset()[0]["glimpse"]
    ram_env.set_rng_state(vec, state)
    np.testing.assert_array_equal(vec.reset()[0]["glimpse"], first)
    with pytest.raises(ValueError, match="2 env generators, this env 3"):
        ram_env.set_rng_state(vec, state[:2])
    with pytest.raises(TypeError, match="not a ram-gym environment"):
        ram_env.task_kind(gym.make("CartPole-v1"))


def test_plugin_agents_by_name_through_train_eval_and_bench(tmp_path, capsys, cli_error):
    out = tmp_path / "run"
    argv = ["train", "--algo", "plugin_agents:Guesser", "--env", "RAM-MNIST-v0", "--out", str(out)]
    assert cli.main([*argv, "--no-progress", "--no-tensorboard", "--eval-episodes", "100"]) == 0
    assert json.loads((out / "eval.json").read_text())["mean_reward"] == pytest.approx(0.1, abs=0.05)
    capsys.readouterr()
    assert (
        cli.main(["eval", str(out / "model.pt"), "--algo", "plugin_agents:Guesser", "--episodes", "50", "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["episodes"] == 50
    assert "lacks predict (or evaluate)" in cli_error([*argv[:2], "plugin_agents:NoPredict", *argv[3:]])
    assert "cannot import 'no_such_pkg'" in cli_error([*argv[:2], "no_such_pkg:Agent", *argv[3:]])
    assert "has no 'Missing'" in cli_error([*argv[:2], "plugin_agents:Missing", *argv[3:]])


def test_an_unknown_plugin_named_by_a_checkpoint_is_not_imported(tmp_path):
    from agents.checkpoint import CheckpointError
    from agents.ram import RAM
    from agents.registry import load_agent

    path = RAM("RAM-MNIST-v0", num_envs=4).save(tmp_path / "a.pt")
    data = __import__("torch").load(path, weights_only=True)
    data["algo"] = "evil_module:Agent"
    from agents.checkpoint import digest

    data.pop("digest")
    data["digest"] = digest(data)
    __import__("torch").save(data, path)
    with pytest.raises(CheckpointError, match="unknown algorithm 'evil_module:Agent'.*pass --algo"):
        load_agent(path)
    assert "evil_module" not in __import__("sys").modules


def test_installed_packages_offer_agents_by_entry_point(monkeypatch):
    from importlib import metadata

    import plugin_agents

    from agents import registry

    class Point:
        name, value = "guesser", "plugin_agents:Guesser"

        def load(self):
            return plugin_agents.Guesser

    monkeypatch.setattr(metadata, "entry_points", lambda group: [Point()] if group == "ram_gym.agents" else [])
    try:
        entry = registry.algorithm("guesser")
        assert entry.default_steps == 600 and entry.make("RAM-MNIST-v0", 0, {}, {}).algo == "guesser"
    finally:
        ALGORITHMS.pop("guesser", None)


def test_bench_table_merges_result_directories(tmp_path, capsys):
    for name, algos in (("reference", "[ram]"), ("mine", "[plugin_agents:Guesser]")):
        sweep = tmp_path / f"{name}.yaml"
        sweep.write_text(
            f"name: {name}\nalgos: {algos}\nenvs: [RAM-MNIST-v0]\nseeds: [0]\nsteps: 192\neval_episodes: 20\n"
        )
        assert cli.main(["bench", str(sweep), "--out", str(tmp_path / name)]) == 0
    argv = ["bench", "--table", str(tmp_path / "reference"), str(tmp_path / "mine"), "--out", str(tmp_path / "all")]
    assert cli.main(argv) == 0
    table = (tmp_path / "all" / "results.md").read_text()
    assert "| ram |" in table and "plugin_agents:Guesser" in table and "| rl |" in table and "| privileged |" in table
    assert (tmp_path / "all" / "curves.png").exists()
    rows = (tmp_path / "all" / "results.csv").read_text().splitlines()
    assert len(rows) == 3 and "git_commit" in rows[0]
    # the committed reference results (a results.csv without run directories) merge too
    committed = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "sweep_small"
    argv = ["bench", "--table", str(committed), str(tmp_path / "mine"), "--out", str(tmp_path / "vs-reference")]
    assert cli.main(argv) == 0
    table = (tmp_path / "vs-reference" / "results.md").read_text()
    assert "| RAM-Catch-v0 | rl | ppo | 3/3 |" in table and "plugin_agents:Guesser" in table
