"""The next batch's env reset runs in a background thread (issue 15); training is unchanged."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

import ram_env
from agents.ram import RAM
from agents.ram.rollout import ResetAhead


def _weights(agent: RAM) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in agent.policy.parameters()]


def _train(ahead: bool, updates: int = 4) -> RAM:
    agent = RAM("RAM-MNIST-v0", seed=3, num_envs=16)
    agent.overlap_resets = ahead
    return agent.learn(16 * 6 * updates)


def test_training_with_the_reset_ahead_is_the_training_without_it():
    with_ahead, without = _train(True), _train(False)
    for a, b in zip(_weights(with_ahead), _weights(without), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_written_with_a_reset_in_flight_resumes_exactly(tmp_path):
    straight = _train(True, updates=6)
    agent = RAM("RAM-MNIST-v0", seed=3, num_envs=16)
    agent.overlap_resets = True  # whatever the machine's core count: the reset runs ahead
    agent.learn(16 * 6 * 6, callback=lambda metrics: metrics["update"] < 3)  # stopped after 3 of 6 updates
    assert agent._reset_ahead.rng_state(agent._make_envs()) is not None  # the 4th update's reset is in flight
    path = agent.save(tmp_path / "mid.pt")
    resumed = RAM.load(path).learn(16 * 6 * 6, reset_num_timesteps=False)
    for a, b in zip(_weights(straight), _weights(resumed), strict=True):
        np.testing.assert_array_equal(a, b)


def test_take_uses_the_reset_only_for_its_own_envs_and_an_unseeded_call():
    envs = gym.make_vec("RAM-MNIST-v0", num_envs=4)
    other = gym.make_vec("RAM-MNIST-v0", num_envs=4)
    envs.reset(seed=0)
    expected_state = ram_env.get_rng_state(envs)
    ahead = ResetAhead()
    ahead.start(envs)
    assert ahead.rng_state(envs) == expected_state  # before the reset in flight
    assert ahead.rng_state(other) is None
    other.reset(seed=1)
    ahead.take(other, seed=None)  # other envs: the reset in flight stays
    assert ahead.rng_state(envs) is not None
    obs, info = ahead.take(envs, seed=None)
    reference = gym.make_vec("RAM-MNIST-v0", num_envs=4)
    reference.reset(seed=0)
    want, want_info = reference.reset()
    np.testing.assert_array_equal(obs["glimpse"], want["glimpse"])
    np.testing.assert_array_equal(info["label"], want_info["label"])
    ahead.start(envs)
    seeded, _ = ahead.take(envs, seed=5)  # a seeded reset discards the one in flight
    fresh, _ = gym.make_vec("RAM-MNIST-v0", num_envs=4).reset(seed=5)
    np.testing.assert_array_equal(seeded["glimpse"], fresh["glimpse"])


def test_gaussian_log_prob_is_the_normal_distributions():
    from torch.distributions import Normal

    from agents.ram.model import gaussian_log_prob

    mean, x = torch.randn(7, 3), torch.randn(7, 3)
    torch.testing.assert_close(gaussian_log_prob(x, mean, 0.17), Normal(mean, 0.17).log_prob(x).sum(-1))


def test_by_default_the_reset_runs_ahead_only_when_torch_leaves_a_core_free(monkeypatch):
    agent = RAM("RAM-MNIST-v0", seed=3, num_envs=4)
    assert agent.overlap_resets is None
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert not agent._overlapping()  # every core runs torch: in line
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert agent._overlapping()  # a spare core: in the background
    agent.overlap_resets = False
    assert not agent._overlapping()
    agent.overlap_resets = True
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert agent._overlapping()
