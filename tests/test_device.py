"""device= is honoured end to end: the model, rollouts and losses live on the device.

The CUDA tests run only where CUDA is available (never on the CPU-only CI machines)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.evaluation import evaluate
from agents.ram import RAM

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_rollout_tensors_live_on_the_model_device():
    agent = RAM("RAM-MNIST-v0", seed=0, num_envs=8, device="cpu")
    rollout = agent.collect(gym.make_vec("RAM-MNIST-v0", num_envs=8), seed=0)
    assert {t.device.type for t in (rollout.baseline, rollout.reward, rollout.alive, rollout.labels)} == {"cpu"}


@cuda
def test_ram_trains_and_predicts_on_cuda(tmp_path):
    agent = RAM("RAM-MNIST-v0", seed=0, num_envs=32, device="cuda").learn(3000)
    assert next(agent.policy.parameters()).device.type == "cuda"
    rollout = agent.collect(gym.make_vec("RAM-MNIST-v0", num_envs=4), seed=0)
    assert rollout.baseline.device.type == "cuda"
    assert 0.0 <= evaluate(agent, n_episodes=200).mean_reward <= 1.0
    again = RAM.load(agent.save(tmp_path / "cuda.pt"), device="cuda")
    assert next(again.policy.parameters()).device.type == "cuda"


@cuda
def test_cpu_and_cuda_give_the_same_result_on_a_small_batch(tmp_path):
    cpu = RAM("RAM-ClutteredMNIST-v0", seed=0, num_envs=8)
    path = cpu.save(tmp_path / "cpu.pt")
    gpu = RAM.load(path, device="cuda")
    obs, _ = gym.make_vec("RAM-ClutteredMNIST-v0", num_envs=8).reset(seed=0)
    a, state_a = cpu.predict(obs)
    b, state_b = gpu.predict(obs)
    np.testing.assert_allclose(a["location"], b["location"], atol=1e-5)
    np.testing.assert_array_equal(a["label"], b["label"])
    np.testing.assert_allclose(state_a[0], state_b[0], atol=1e-5)
