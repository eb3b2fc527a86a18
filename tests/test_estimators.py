"""The estimator options beyond the paper: location rewards from the classifier's log-likelihood,
the leave-one-out multi-sample baseline, the warm start on random fixations, the convolutional
glimpse network, and the validation curve written during training."""

import csv

import pytest
import torch

from agents.ram import RAM
from agents.ram.losses import LOG_LIKELIHOOD_FLOOR, hybrid_loss, leave_one_out_advantage, location_rewards
from agents.ram.model import ConvWhat, RecurrentAttentionModel


def small(**kwargs):
    return RAM("RAM-MNIST-v0", seed=0, num_envs=16, hidden_size=32, glimpse_hidden=16, glimpse_out=32, **kwargs)


def test_log_likelihood_rewards_telescope_to_the_final_log_likelihood():
    agent = small(location_reward="dense")
    rollout = agent.collect(agent._make_envs(), seed=0)
    lp = rollout.label_log_prob.clamp(min=LOG_LIKELIHOOD_FLOOR)
    assert lp.shape == rollout.reward.shape == (6, 16)
    # the label log-probability recorded at each step is the action network's read-out of h_t
    final = torch.log_softmax(rollout.final_logits, -1).gather(1, rollout.labels[:, None]).squeeze(1)
    torch.testing.assert_close(rollout.label_log_prob[-1], final)
    dense = location_rewards(rollout, "dense")
    torch.testing.assert_close(dense.sum(0), lp[-1] - lp[0])  # sums to the gain over the episode
    assert torch.all(dense[-1] == 0)  # the last step's location is never glimpsed
    final_only = location_rewards(rollout, "log_likelihood")
    torch.testing.assert_close(final_only.sum(0), lp[-1])
    assert torch.all(final_only[:-1] == 0)
    assert location_rewards(rollout, "paper") is rollout.reward
    with pytest.raises(ValueError, match="location_reward must be"):
        location_rewards(rollout, "bonus")


def test_leave_one_out_compares_each_rollout_with_the_others_of_its_image():
    returns = torch.tensor([[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]])
    alive = torch.ones_like(returns)
    got = leave_one_out_advantage(returns, alive, 3)
    torch.testing.assert_close(got, torch.tensor([[1.0, -0.5, -0.5, 0.0, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="groups of >= 2"):
        leave_one_out_advantage(returns, alive, 4)
    agent = small(rollouts_per_image=4, critic="leave_one_out")
    rollout = agent.collect(agent._make_envs(), seed=0)
    assert torch.all(rollout.labels.reshape(4, 4) == rollout.labels.reshape(4, 4)[:, :1])  # groups share an image
    loss, terms = hybrid_loss(rollout, True, **agent.config.loss_options())
    assert torch.isfinite(loss)
    with pytest.raises(ValueError, match="rollouts_per_image >= 2"):
        small(critic="leave_one_out")


def test_warm_start_looks_at_random_fixations_and_gives_the_location_network_no_gradient():
    agent = small(warm_start_steps=200)
    assert agent.warming_up
    envs = agent._make_envs()
    rollout = agent.collect(envs, seed=0, uniform_fixations=True)
    assert torch.all(rollout.location_log_prob == 0)
    assert rollout.locations.abs().max() <= 1 and rollout.locations.std() > 0.4  # uniform over [-1, 1], not ~0
    metrics = agent.train_step(envs, seed=0)
    assert metrics["location_pg"] == 0.0 and metrics["cross_entropy"] > 0
    grad = agent.policy.location_network.mean.weight.grad
    assert grad is None or grad.abs().sum() == 0
    agent.learn(400)
    assert not agent.warming_up  # after the warm start: the paper's training, policy gradient on
    assert agent.train_step(envs)["location_pg"] != 0.0


def test_conv_glimpse_network_shapes_and_learning():
    what = ConvWhat((3, 12, 12), 64)
    assert what(torch.zeros(5, 3, 12, 12)).shape == (5, 64)
    assert ConvWhat((2, 3, 8, 8), 16)(torch.zeros(4, 2, 3, 8, 8)).shape == (4, 16)  # colour glimpses
    model = RecurrentAttentionModel((1, 8, 8), 10, glimpse_network="conv")
    assert isinstance(model.glimpse_network.what, ConvWhat)
    agent = RAM("RAM-MNIST-v0", seed=0, num_envs=64, glimpse_network="conv")
    agent.learn(150_000)
    from agents.evaluation import evaluate

    assert evaluate(agent, n_episodes=500, split="validation").mean_reward > 0.3  # chance is 0.1
    with pytest.raises(ValueError, match="glimpse_network must be 'fc' or 'conv'"):
        small(glimpse_network="resnet")


def test_estimator_options_are_refused_where_they_mean_nothing():
    with pytest.raises(ValueError, match="location_reward"):
        RAM("RAM-Catch-v0", seed=0, location_reward="dense")
    with pytest.raises(ValueError, match="warm_start_steps"):
        RAM("RAM-Catch-v0", seed=0, warm_start_steps=10)
    with pytest.raises(ValueError, match="warm_start_steps must be >= 0"):
        small(warm_start_steps=-1)
    with pytest.raises(ValueError, match="does not mix with allow_stop"):
        RAM("RAM-MNIST-v0", seed=0, location_reward="dense", env_kwargs={"allow_stop": True})


def test_validation_curve_is_written_and_continued_on_resume(tmp_path):
    from agents.training import resume, train

    agent = small()
    train(agent, tmp_path, 2_000, checkpoint_every=1, tensorboard=False, validate_every=600, minutes=None)
    rows = list(csv.DictReader(open(tmp_path / "validation.csv")))
    assert [int(r["env_steps"]) // 600 for r in rows] == [1, 2, 3]
    assert all(0 <= float(r["validation_error"]) <= 1 and r["episodes"] == "5000" for r in rows)
    resume(tmp_path, 3_000, tensorboard=False, validate_every=600)
    steps = [int(r["env_steps"]) for r in csv.DictReader(open(tmp_path / "validation.csv"))]
    assert steps == sorted(steps) and len(steps) == 5


def test_self_critical_baseline_is_the_greedy_rollout_of_each_image():
    from agents.ram.losses import self_critical_advantage

    returns = torch.tensor([[1.0, 0.0, 1.0, 0.0, 0.0, 1.0]])
    got = self_critical_advantage(returns, torch.ones_like(returns), 3)
    torch.testing.assert_close(got, torch.tensor([[0.0, -1.0, 0.0, 0.0, 0.0, 1.0]]))
    agent = small(rollouts_per_image=4, critic="self_critical")
    rollout = agent.collect(agent._make_envs(), seed=0)
    leaders = rollout.location_log_prob[:, ::4]
    assert torch.all(leaders == 0) and torch.all(rollout.location_log_prob[:, 1::4] != 0)
    # the greedy episode looks where the means say: the same fixations as a deterministic pass
    assert agent.train_step(agent._make_envs())["location_pg"] != 0.0
    with pytest.raises(ValueError, match="rollouts_per_image >= 2"):
        small(critic="self_critical")
