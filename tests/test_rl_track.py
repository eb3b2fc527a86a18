"""Reward variants, the glimpse-history wrapper, and the rl track's blindness to privileged info."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import ram_env
from ram_env.wrappers import BoxActions, GlimpseHistory, GridActions


def play(env, labels, location=(0.0, 0.0)):
    env.reset(seed=0)
    rewards = []
    for label in labels:
        rewards.append(env.step({"location": np.asarray(location, np.float32), "label": label})[1])
    return rewards


def truth(env):
    return ram_env.glimpse_task(env).label[0]


def test_final_and_dense_rewards_on_a_hand_made_episode():
    env = gym.make("RAM-MNIST-v0", reward="dense")
    env.reset(seed=0)
    y = int(truth(env))
    wrong = (y + 1) % 10
    rewards = play(env, [wrong, y, wrong, y, wrong, y])  # right at steps 2, 4 and 6 of 6
    assert rewards == pytest.approx([0, 1 / 6, 0, 1 / 6, 0, 1 / 6])
    final = gym.make("RAM-MNIST-v0")
    assert play(final, [wrong, y, wrong, y, wrong, y]) == [0, 0, 0, 0, 0, 1.0]
    assert play(final, [y, y, y, y, y, wrong])[-1] == 0.0  # only the last label counts


def test_cross_entropy_reward_and_its_box_action():
    env = gym.make("RAM-MNIST-v0", reward="cross_entropy")
    assert env.action_space["label"] == gym.spaces.Box(-10, 10, (10,), np.float32)
    env.reset(seed=0)
    y = int(truth(env))
    scores = np.zeros(10, np.float32)
    scores[y] = 2.0
    want = (2.0 - np.log(np.exp(2.0) + 9)) / 6
    rewards = play(env, [scores] * 6)
    assert rewards == pytest.approx([want] * 6)
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=3, reward="cross_entropy")
    vec.reset(seed=0)
    y3 = ram_env.glimpse_task(vec).label.copy()
    batch = np.zeros((3, 10), np.float32)
    batch[np.arange(3), y3] = 2.0
    reward = vec.step({"location": np.zeros((3, 2), np.float32), "label": batch})[1]
    assert reward == pytest.approx([want] * 3)
    with pytest.raises(ram_env.InvalidAction, match="class scores must be finite"):
        vec.step({"location": np.zeros((3, 2), np.float32), "label": np.full((3, 10), np.nan)})
    with pytest.raises(ValueError, match="reward must be one of"):
        gym.make("RAM-MNIST-v0", reward="sparse")


@pytest.mark.parametrize("reward", ["final", "dense", "cross_entropy"])
def test_reward_variants_work_with_the_sb3_wrappers(reward):
    for wrapper in (GridActions, BoxActions):
        env = wrapper(gym.make("RAM-MNIST-v0", reward=reward))
        sb3_check_env(env, warn=False)
    grid = GridActions(gym.make("RAM-MNIST-v0", reward=reward), grid=3)
    grid.reset(seed=0)
    y = int(truth(grid))
    total = sum(grid.step(np.array([4, y]))[1] for _ in range(6))
    assert total == pytest.approx(
        {"final": 1.0, "dense": 1.0, "cross_entropy": np.log(np.exp(10) / (np.exp(10) + 9))}[reward]
    )


def test_evaluation_reports_accuracy_whatever_the_reward():
    from agents.evaluation import evaluate

    class AlwaysZero:  # names digit 0 by its class scores: its accuracy is the share of zeros
        env_kwargs = {"reward": "cross_entropy"}
        env_id = "RAM-MNIST-v0"

        def __init__(self):
            self.labels = ram_env.image_dataset(gym.make("RAM-MNIST-v0", split="test")).labels

        def predict(self, obs, state=None, episode_start=None, deterministic=True):
            n = len(obs["location"])
            state = np.zeros(n, int) if state is None else np.where(episode_start, 0, state)
            return {"location": np.zeros((n, 2), np.float32), "label": np.zeros((n, 10), np.float32)}, state

    assert evaluate(AlwaysZero(), n_episodes=200).mean_reward == pytest.approx(
        np.mean(ram_env.image_dataset(gym.make("RAM-MNIST-v0", split="test")).labels[:200] == 0)
    )


def test_glimpse_history_holds_the_last_k_glimpses():
    env = GlimpseHistory(gym.make("RAM-ClutteredMNIST-v0"), k=3)
    sb3_check_env(GridActions(GlimpseHistory(gym.make("RAM-MNIST-v0"), k=3)), warn=False)
    obs, _ = env.reset(seed=0)
    assert obs["valid"].tolist() == [0, 0, 1] and obs["glimpse"].shape == (3, 3, 12, 12)
    seen = [obs["glimpse"][-1]]
    for t in range(4):
        loc = np.array([0.2 * t - 0.3, 0.1], np.float32)
        obs, *_ = env.step({"location": loc, "label": 0})
        seen.append(obs["glimpse"][-1])
        np.testing.assert_array_equal(obs["location"][-1], loc)
    np.testing.assert_array_equal(obs["glimpse"], np.stack(seen[-3:]))  # oldest first, newest last
    assert obs["valid"].tolist() == [1, 1, 1]
    assert env.reset(seed=1)[0]["valid"].tolist() == [0, 0, 1]  # a new episode forgets


def test_sb3_agent_with_history_learns_and_predicts_from_native_observations():
    from agents.baselines import SB3Agent
    from agents.evaluation import evaluate

    agent = SB3Agent("ppo", "RAM-MNIST-v0", seed=0, history=4, n_envs=8, n_steps=32, batch_size=64)
    assert agent.vec_env.observation_space["glimpse"].shape == (4, 1, 8, 8)
    agent.learn(600)
    assert 0.0 <= evaluate(agent, n_episodes=100).mean_reward <= 1.0
    with pytest.raises(ValueError, match="history is for memoryless policies"):
        SB3Agent("recurrent-ppo", "RAM-MNIST-v0", history=4)


def test_the_rl_track_never_sees_the_label_or_the_state():
    from agents.baselines.vec_env import GlimpseVecEnv
    from agents.ram import RAM

    rl = RAM("RAM-MNIST-v0", num_envs=4, supervised=False)
    assert rl.track == "rl"
    envs = rl._make_envs()
    _, info = envs.reset(seed=0)
    step_info = envs.step(envs.action_space.sample())[-1]
    assert not {"label", "state"} & (set(info) | set(step_info)) and "index" in info
    rl.learn(200)  # trains without them
    privileged = RAM("RAM-MNIST-v0", num_envs=4)
    assert privileged.track == "privileged" and "label" in privileged._make_envs().reset(seed=0)[1]
    venv = GlimpseVecEnv("RAM-Catch-v0", 4, "grid", 3)
    venv.reset()
    venv.step_async(np.array([venv.action_space.sample() for _ in range(4)]))
    infos = venv.step_wait()[-1]
    assert not any({"label", "state"} & set(i) for i in infos)


def test_ram_rl_is_the_ram_on_the_reward_alone():
    from agents.registry import make_agent, resolved_settings

    agent = make_agent("ram-rl", "RAM-MNIST-v0", 0, {"num_envs": 4}, {})
    assert agent.track == "rl" and agent.config.supervised is False
    assert resolved_settings("ram-rl", "RAM-MNIST-v0", {})["supervised"] is False
    assert make_agent("ram", "RAM-MNIST-v0", 0, {"num_envs": 4}, {}).track == "privileged"
    with pytest.raises(ValueError, match="ram-rl learns from the reward alone"):
        make_agent("ram-rl", "RAM-Catch-v0", 0, {"critic": "state"}, {})


def test_sb3_hyperparameter_files_choose_the_env_keywords(monkeypatch, tmp_path):
    from agents.baselines import SB3Agent, sb3_agents

    real = sb3_agents.hyperparameters

    def tuned(algo, env_id, overrides=None):
        params = real(algo, env_id)
        params["env_kwargs"] = {"reward": "dense", "n_glimpses": 4}
        params.update(overrides or {})
        return params

    monkeypatch.setattr(sb3_agents, "hyperparameters", tuned)
    agent = SB3Agent("a2c", "RAM-MNIST-v0", n_envs=2, env_kwargs={"n_glimpses": 3})
    assert agent.env_kwargs == {"reward": "dense", "n_glimpses": 3}  # the caller's keywords win
    assert agent.vec_env.task.reward_mode == "dense"
    path = agent.save(tmp_path / "a2c.pt")
    assert SB3Agent.load(path).env_kwargs == agent.env_kwargs
    monkeypatch.setattr(sb3_agents, "hyperparameters", lambda *a, **k: {**real("a2c", "RAM-MNIST-v0"), "env_kwargs": 3})
    with pytest.raises(ValueError, match="env_kwargs must be a mapping"):
        SB3Agent("a2c", "RAM-MNIST-v0", n_envs=2)
