"""Baselines: SB3-facing wrappers and VecEnv, every SB3 algorithm, the full-image networks."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import ram_env
from agents import cli
from agents.baselines import SB3Agent, hyperparameters
from agents.baselines.full_image import FullImageClassifier
from agents.baselines.vec_env import GlimpseVecEnv
from agents.checkpoint import CheckpointError
from agents.evaluation import evaluate
from agents.registry import ALGORITHMS, evaluate_agent, load_agent, make_agent
from agents.threads import use_free_cores
from ram_env import InvalidAction
from ram_env.wrappers import BoxActions, DiscreteActions, GridActions, grid_locations

SB3 = ["ppo", "a2c", "dqn", "recurrent-ppo"]


@pytest.mark.parametrize("env_id", ["RAM-MNIST-v0", "RAM-ClutteredMNIST-v0", "RAM-Catch-v0"])
@pytest.mark.parametrize("wrapper", [GridActions, DiscreteActions, BoxActions])
def test_sb3_check_env_passes_on_wrapped_envs(env_id, wrapper):
    env = wrapper(gym.make(env_id))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "glimpse looks like an image": we use our own extractor
        sb3_check_env(env, warn=True)


def test_sb3_check_env_on_full_screen_catch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sb3_check_env(gym.make("RAM-Catch-v0", obs_mode="full"))


def test_wrappers_decode_as_documented():
    locs = grid_locations(3)
    np.testing.assert_allclose(locs[0], [-2 / 3, -2 / 3])
    np.testing.assert_allclose(locs[5], [0.0, 2 / 3])
    env = GridActions(gym.make("RAM-MNIST-v0"), grid=3)
    assert env.action(np.array([5, 7]))["label"] == 7
    np.testing.assert_allclose(env.action(np.array([5, 7]))["location"], [0.0, 2 / 3])
    d = DiscreteActions(gym.make("RAM-Catch-v0"), grid=3)
    assert d.action_space.n == 27
    decoded = d.action(np.int64(5 * 3 + 2))
    assert decoded["move"] == 2 and np.allclose(decoded["location"], locs[5])
    b = BoxActions(gym.make("RAM-MNIST-v0"))
    a = np.zeros(12, np.float32)
    a[:2] = [0.5, -0.25]
    a[2 + 4] = 0.9
    assert b.action(a)["label"] == 4 and np.allclose(b.action(a)["location"], [0.5, -0.25])
    for bad_env, bad in [(env, np.array([9, 0])), (env, np.array([0, 10])), (d, 27), (b, np.full(12, np.nan))]:
        bad_env.reset(seed=0)
        with pytest.raises(InvalidAction):
            bad_env.step(bad)


def test_vec_env_resets_in_the_same_step_with_terminal_observation():
    venv = GlimpseVecEnv("RAM-MNIST-v0", 4, "grid", 5, {"n_glimpses": 2})
    venv.seed(3)
    obs = venv.reset()
    assert obs["glimpse"].shape == (4, 1, 8, 8)
    actions = np.array([[12, 0]] * 4)
    obs, reward, done, infos = venv.step(actions)
    assert not done.any() and reward.dtype == np.float32
    obs2, reward, done, infos = venv.step(actions)
    assert done.all()
    for i, info in enumerate(infos):
        assert info["episode"]["l"] == 2 and info["episode"]["r"] == reward[i]
        assert set(info["terminal_observation"]) == {"glimpse", "location"}
    # the returned observation already belongs to the next episode
    assert not np.array_equal(obs2["location"], np.tile(np.float32([0, 0]), (4, 1)))
    single = gym.make("RAM-MNIST-v0", n_glimpses=2)
    first, _ = single.reset(seed=3)
    venv.seed(3)
    np.testing.assert_array_equal(venv.reset()["glimpse"][0], first["glimpse"])


@pytest.mark.parametrize("algo", SB3)
@pytest.mark.parametrize(
    "env_id, env_kwargs", [("RAM-MNIST-v0", {}), ("RAM-Catch-v0", {}), ("RAM-Catch-v0", {"obs_mode": "full"})]
)
def test_every_sb3_algorithm_trains_evaluates_and_round_trips(algo, env_id, env_kwargs, tmp_path):
    use_free_cores()
    extra = {"dqn": {"learning_starts": 100}, "a2c": {}}.get(algo, {"batch_size": 64})
    agent = SB3Agent(algo, env_id, seed=0, env_kwargs=env_kwargs, n_envs=8, **extra)
    agent.learn(400)
    assert agent.num_timesteps >= 400
    result = evaluate(agent, n_episodes=40, num_envs=20)
    assert 0.0 <= result.mean_reward <= 1.0 and result.episodes == 40
    path = agent.save(tmp_path / "agent.pt")
    clone = load_agent(path)
    assert type(clone) is SB3Agent and clone.algo == algo and clone.num_timesteps == agent.num_timesteps
    moments = agent.model.policy.optimizer.state_dict()["state"]  # a resumed run keeps the optimizer's state
    restored = clone.model.policy.optimizer.state_dict()["state"]
    assert moments and restored.keys() == moments.keys()
    for i in moments:
        for name, value in moments[i].items():
            np.testing.assert_array_equal(np.asarray(restored[i][name]), np.asarray(value))
    env = gym.make_vec(env_id, num_envs=6, **env_kwargs)
    obs, _ = env.reset(seed=1)
    start = np.ones(6, bool)
    a1, _ = agent.predict(obs, None, start)
    a2, _ = clone.predict(obs, None, start)
    if isinstance(a1, dict):
        for key in a1:
            np.testing.assert_array_equal(a1[key], a2[key])
        assert a1 in env.action_space
    else:
        np.testing.assert_array_equal(a1, a2)


def test_hyperparameter_files_and_bad_settings():
    for algo in SB3:
        params = hyperparameters(algo, "RAM-Catch-v0")
        assert "n_envs" in params and "learning_rate" in params
    assert hyperparameters("ppo", "RAM-Catch-v0")["gamma"] == 0.99
    assert hyperparameters("ppo", "RAM-MNIST-v0")["gamma"] == 1.0
    assert hyperparameters("ppo", "RAM-MNIST-v0", {"n_steps": 8})["n_steps"] == 8
    with pytest.raises(ValueError, match="unknown SB3 algorithm"):
        hyperparameters("sac", "RAM-MNIST-v0")
    with pytest.raises(ValueError, match="DQN needs Discrete"):
        SB3Agent("dqn", "RAM-MNIST-v0", encoding="grid")
    with pytest.raises(ValueError, match="bad ppo hyper-parameters"):
        SB3Agent("ppo", "RAM-MNIST-v0", n_envs=2, learning_rat=1.0)


def test_cnn_baseline_learns_mnist_above_90_percent():
    use_free_cores()
    agent = FullImageClassifier("cnn", "RAM-MNIST-v0", seed=0)
    agent.learn(30_000)
    result = agent.evaluate(n_episodes=2000)
    assert result.mean_reward > 0.90, result.summary()


def test_full_image_baselines_see_the_same_test_images_as_the_env(tmp_path):
    agent = FullImageClassifier("fc", "RAM-ClutteredMNIST-v0", seed=0)
    data = agent.dataset("test")
    env = gym.make("RAM-ClutteredMNIST-v0", split="test")
    env.reset(seed=0)
    canvas, _ = data.render(data.fixed_layouts(np.array([0])), np.array([0]))
    np.testing.assert_array_equal(canvas[0], ram_env.glimpse_task(env).canvas[0])
    agent.learn(256)
    clone = load_agent(agent.save(tmp_path / "fc.pt"))
    np.testing.assert_array_equal(clone.predict_images(canvas), agent.predict_images(canvas))
    with pytest.raises(ValueError, match="not a classification env"):
        FullImageClassifier("cnn", "RAM-Catch-v0")
    with pytest.raises(ValueError, match="deterministic full-image"):
        evaluate_agent(clone, mc_samples=3)


def test_registry_makes_every_algorithm_and_rejects_unknown():
    for algo in ALGORITHMS:
        env_id = "RAM-MNIST-v0"
        hparams = {"n_envs": 4} if algo not in ("ram", "ram-rl", "fc", "cnn") else {}
        agent = make_agent(algo, env_id, seed=0, hparams=hparams)
        assert agent.env_id == env_id
    with pytest.raises(ValueError, match="unknown algorithm"):
        make_agent("sac", "RAM-MNIST-v0")


def test_checkpoint_of_another_family_is_rejected(tmp_path):
    agent = FullImageClassifier("cnn", "RAM-MNIST-v0")
    path = agent.save(tmp_path / "cnn.pt")
    with pytest.raises(CheckpointError, match="not a Stable-Baselines3 one"):
        SB3Agent.load(path)


@pytest.mark.parametrize(
    "algo, args",
    [
        ("cnn", ["--steps", "2048", "--set", "batch_size=64"]),
        ("ppo", ["--steps", "1024", "--set", "n_envs=8", "--set", "batch_size=64"]),
        ("dqn", ["--steps", "512", "--set", "n_envs=8", "--set", "learning_starts=64"]),
    ],
)
def test_cli_trains_and_evaluates_every_family(algo, args, tmp_path, capsys):
    out = tmp_path / algo
    assert (
        cli.main(
            [
                "train",
                "--algo",
                algo,
                "--env",
                "RAM-MNIST-v0",
                "--out",
                str(out),
                "--no-progress",
                "--eval-episodes",
                "100",
                *args,
            ]
        )
        == 0
    )
    assert "accuracy" in capsys.readouterr().out
    assert cli.main(["eval", str(out / "model.pt"), "--episodes", "50"]) == 0
    assert "50 episodes" in capsys.readouterr().out
