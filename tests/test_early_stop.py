"""The paper's first extension: stopping glimpses early (allow_stop, glimpse_cost), learned by the RAM."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import ram_env
from ram_env.wrappers import BoxActions, DiscreteActions, GridActions


def test_stop_ends_the_episode_and_scores_then_and_glimpses_cost():
    env = gym.make("RAM-ClutteredMNIST-v0", allow_stop=True, glimpse_cost=0.05)
    env.reset(seed=0)
    y = int(ram_env.glimpse_task(env).label[0])
    go = {"location": np.zeros(2, np.float32), "label": (y + 1) % 10, "stop": 0}
    rewards = [env.step(go)[1] for _ in range(2)]  # two more glimpses, 0.05 each
    obs, reward, terminated, _, info = env.step({**go, "label": y, "stop": 1})
    assert rewards == pytest.approx([-0.05, -0.05]) and terminated and reward == 1.0
    assert info["glimpses"] == 3  # the reset's glimpse and the two it paid for
    never = gym.make("RAM-ClutteredMNIST-v0", allow_stop=True)
    never.reset(seed=0)
    steps = 0
    terminated = False
    while not terminated:
        terminated = never.step({**go, "stop": 0})[2]
        steps += 1
    assert steps == 8  # without stopping: the usual n_glimpses steps
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=3, allow_stop=True)
    vec.reset(seed=0)
    out = vec.step({"location": np.zeros((3, 2), np.float32), "label": np.zeros(3, int), "stop": np.array([1, 0, 1])})
    assert out[2].tolist() == [True, False, True]
    with pytest.raises(ram_env.InvalidAction, match="stop"):
        vec.step({"location": np.zeros((3, 2), np.float32), "label": np.zeros(3, int), "stop": np.array([2, 0, 1])})
    with pytest.raises(ValueError, match="glimpse_cost must be a number >= 0"):
        gym.make("RAM-MNIST-v0", glimpse_cost=-1)
    with pytest.raises(ValueError, match="do not mix"):
        gym.make_vec("RAM-MNIST-v0", num_envs=4, allow_stop=True, rollouts_per_image=2)


@pytest.mark.parametrize("wrapper", [GridActions, DiscreteActions, BoxActions])
def test_the_sb3_wrappers_carry_the_stop_choice(wrapper):
    env = wrapper(gym.make("RAM-MNIST-v0", allow_stop=True))
    sb3_check_env(env, warn=False)
    env.reset(seed=0)
    stop_now = {GridActions: np.array([0, 0, 1]), DiscreteActions: 1, BoxActions: np.r_[np.zeros(12), 1.0]}[wrapper]
    assert env.step(stop_now)[2]  # stopped after the first glimpse


def test_the_ram_learns_when_to_stop(tmp_path):
    from agents.evaluation import evaluate
    from agents.ram import RAM

    agent = RAM("RAM-MNIST-v0", seed=0, num_envs=32, env_kwargs={"allow_stop": True, "glimpse_cost": 0.02})
    assert agent.policy.stop_network is not None and agent.has_stop
    before = agent.policy.stop_network.weight.detach().clone()
    agent.learn(20_000)
    assert not np.allclose(before.numpy(), agent.policy.stop_network.weight.detach().numpy())  # REINFORCE reached it
    result = evaluate(agent, n_episodes=200)
    assert result.mean_glimpses is not None and 1.0 <= result.mean_glimpses <= 6.0
    assert "glimpses per episode" in result.summary()
    again = RAM.load(agent.save(tmp_path / "stop.pt"))
    assert evaluate(again, n_episodes=200).mean_reward == result.mean_reward
    obs, _ = gym.make("RAM-MNIST-v0", allow_stop=True).reset(seed=0)
    action, _ = agent.predict(obs)
    assert set(action) == {"location", "label", "stop"} and action["stop"] in (0, 1)
