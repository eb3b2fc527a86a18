"""The RAM agent: model shapes, learning, location learning, persistence, resume, bad input."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.checkpoint import CheckpointError, load_checkpoint
from agents.evaluation import evaluate
from agents.ram import RAM, RecurrentAttentionModel, hybrid_loss
from agents.threads import use_free_cores
from ram_env.registration import PAPER_SETTINGS


class RandomFixations:
    """The same agent, but every fixation replaced by a uniformly random location."""

    def __init__(self, agent):
        self.agent, self.env_id, self.env_kwargs = agent, agent.env_id, agent.env_kwargs
        self.rng = np.random.default_rng(0)

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        action, state = self.agent.predict(obs, state, episode_start, deterministic)
        action["location"] = self.rng.uniform(-1, 1, np.shape(action["location"])).astype(np.float32)
        return action, state


def resave(data, path):
    """Write an edited checkpoint dict with a fresh digest (so the check under test, not the
    digest, is what must catch the edit)."""
    from agents.checkpoint import digest

    data.pop("digest", None)
    data["digest"] = digest(data)
    torch.save(data, path)


@pytest.fixture(scope="module")
def trained():
    """RAM-MNIST-v0 trained for a small budget (about 2 s), with its location weights before training."""
    use_free_cores()
    agent = RAM("RAM-MNIST-v0", seed=0, num_envs=64)
    before = agent.policy.location_network.mean.weight.detach().clone()
    agent.learn(80_000)
    return agent, before


@pytest.mark.parametrize("env_id", list(PAPER_SETTINGS))
def test_model_shapes_and_actions_for_every_env(env_id):
    import gymnasium as gym

    agent = RAM(env_id, seed=0, num_envs=4)
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    action, state = agent.predict(obs)
    assert action in env.action_space
    assert len(state) == (1 if env_id != "RAM-Catch-v0" else 2)  # RNN core, LSTM for Catch
    assert all(s.shape == (1, 256) for s in state)
    vec = gym.make_vec(env_id, num_envs=5)
    obs, _ = vec.reset(seed=0)
    action, state = agent.predict(obs, state=None, episode_start=np.ones(5, bool), deterministic=False)
    assert action["location"].shape == (5, 2) and action["location"].dtype == np.float32
    assert action[agent.action_key].shape == (5,)
    vec.step(action)
    glimpse_shape = env.observation_space["glimpse"].shape
    model = agent.policy
    out = model(torch.zeros(3, *glimpse_shape), torch.zeros(3, 2), model.initial_state(3))
    assert out.location.shape == (3, 2) and out.action_logits.shape == (3, env.action_space[agent.action_key].n)
    assert out.baseline.shape == (3,) and out.location_log_prob.shape == (3,)


def test_learning_smoke_test_beats_chance(trained):
    agent, _ = trained
    result = evaluate(agent, n_episodes=2000)
    assert result.mean_reward > 0.30, result.summary()  # chance is 0.10


def test_catch_recipe_learns_a_small_catch_well_above_chance():
    """The Catch recipe (state critic + state decoder, as in agents/ram/recipes/ram_catch.yaml,
    its per-episode weights scaled to 7-step episodes) on an 8x8 screen: about 15 s on two
    threads.  Measured (one thread) for seeds 0-2: 0.80, 0.77, 0.85 caught against 0.21 untrained."""
    steps = 7  # the ball falls 7 rows
    agent = RAM(
        "RAM-Catch-v0",
        seed=0,
        env_kwargs={"screen_size": 8},
        num_envs=64,
        critic="state",
        gae_lambda=0.5,
        normalize_advantage=True,
        entropy_coef=0.01 * steps,
        state_loss_weight=1.0 * steps,
        max_grad_norm=1.0 * steps,
        location_mean="linear",
        lr_schedule="constant",
    )
    untrained = evaluate(agent, n_episodes=500).mean_reward
    agent.learn(200_000)
    trained = evaluate(agent, n_episodes=500).mean_reward
    assert trained > untrained + 0.3 and trained > 0.5, (untrained, trained)


def test_evaluation_gives_every_episode_a_fresh_recurrent_state(trained):
    """With next-step autoreset, a vector env's later episodes must score exactly as if each
    were the first of its own env (the recurrent state must not carry the previous
    episode's last glimpse).  Centred first fixations make every episode deterministic."""
    from agents.evaluation import _run

    agent, _ = trained
    center = {"initial_location": "center", "split": "test"}
    reused = _run(agent, gym.make_vec("RAM-MNIST-v0", num_envs=7, **center), 60, 0, True, by_index=True)
    fresh = _run(agent, gym.make_vec("RAM-MNIST-v0", num_envs=60, **center), 60, 0, True, by_index=True)
    assert reused == fresh


def test_location_network_learns_and_looking_matters(trained):
    agent, before = trained
    after = agent.policy.location_network.mean.weight.detach()
    assert (after - before).abs().max() > 1e-3  # its weights moved
    learned = evaluate(agent, n_episodes=2000).mean_reward
    random_looks = evaluate(RandomFixations(agent), n_episodes=2000).mean_reward
    assert learned > random_looks + 0.15, (learned, random_looks)


def test_policy_gradient_reaches_the_location_mean():
    """The known pitfall: a detached mean gives the location network no gradient."""
    import gymnasium as gym

    agent = RAM("RAM-MNIST-v0", seed=1, num_envs=8)
    rollout = agent.collect(gym.make_vec("RAM-MNIST-v0", num_envs=8), seed=0)
    rollout.reward[-1] = torch.arange(8, dtype=torch.float32) % 2  # a non-constant reward
    loss, _ = hybrid_loss(rollout, supervised=False, baseline_weight=0.0)
    agent.policy.zero_grad()
    loss.backward()
    grad = agent.policy.location_network.mean.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_checkpoints_of_the_removed_ppo_style_mode(tmp_path):
    """Older checkpoints carry update_epochs / clip_range / minibatches: at their defaults
    they load (every shipped model does); a model trained with the removed mode is refused."""
    agent = RAM("RAM-MNIST-v0", seed=0, num_envs=4)
    path = agent.save(tmp_path / "old.pt")
    data = torch.load(path, weights_only=True)
    data["config"].update(update_epochs=1, clip_range=0.2, minibatches=1)
    resave(data, path)
    assert RAM.load(path).config.num_envs == 4
    data["config"]["update_epochs"] = 4
    resave(data, path)
    with pytest.raises(CheckpointError, match="update_epochs=4.*removed"):
        RAM.load(path)


def test_track_says_what_training_reads():
    assert RAM("RAM-MNIST-v0", num_envs=4).track == "privileged"  # the hybrid loss reads info["label"]
    assert RAM("RAM-MNIST-v0", num_envs=4, supervised=False).track == "rl"
    with pytest.warns(UserWarning, match="ram_catch"):
        assert RAM("RAM-Catch-v0", num_envs=4).track == "rl"
    assert RAM("RAM-Catch-v0", num_envs=4, critic="state").track == "privileged"


def test_state_critic_reads_the_true_state_and_bad_uses_are_refused(tmp_path):
    """critic="state": b_t is the asymmetric critic's value of info["state"] before each move;
    the critic is saved with the model; envs without a true state, bad names are refused."""
    import gymnasium as gym

    agent = RAM("RAM-Catch-v0", seed=0, num_envs=4, critic="state", gae_lambda=0.5)
    envs = gym.make_vec("RAM-Catch-v0", num_envs=4)
    rollout = agent.collect(envs, seed=3)
    assert rollout.true_states.shape == (23, 4, 5)
    states = [envs.reset(seed=3)[1]["state"]]
    for _ in range(22):
        states.append(envs.step(envs.action_space.sample())[-1]["state"])
    torch.testing.assert_close(rollout.true_states[:, :, 0], torch.tensor(np.stack(states))[:, :, 0])  # ball row
    torch.testing.assert_close(rollout.baseline, agent.policy.state_critic(rollout.true_states))
    loss, _ = hybrid_loss(rollout, False, gae_lambda=0.5)
    loss.backward()
    assert all(p.grad is not None for p in agent.policy.state_critic.parameters())
    clone = RAM.load(agent.save(tmp_path / "critic.pt"))
    for a, b in zip(agent.policy.state_critic.parameters(), clone.policy.state_critic.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match=r"critic='state' needs .*info\['state'\]"):
        RAM("RAM-MNIST-v0", critic="state")
    with pytest.raises(ValueError, match=r"state_loss_weight > 0 needs .*info\['state'\]"):
        RAM("RAM-MNIST-v0", state_loss_weight=1.0)
    with pytest.raises(ValueError, match="state_loss_weight must be >= 0"):
        RAM("RAM-Catch-v0", state_loss_weight=-1.0)
    with pytest.raises(ValueError, match="critic must be 'baseline', 'state', 'leave_one_out' or 'self_critical'"):
        RAM("RAM-Catch-v0", critic="screen")


def test_state_decoder_loss_is_the_mse_of_the_true_state_and_trains_the_glimpse_network():
    import gymnasium as gym

    agent = RAM("RAM-Catch-v0", seed=0, num_envs=4, state_loss_weight=1.0)
    assert agent.policy.state_critic is None and agent.policy.baseline_network is not None
    rollout = agent.collect(gym.make_vec("RAM-Catch-v0", num_envs=4), seed=1)
    assert rollout.state_predictions.shape == rollout.true_states.shape == (23, 4, 5)
    plain, _ = hybrid_loss(rollout, False)
    loss, terms = hybrid_loss(rollout, False, state_loss_weight=3.0)
    want = ((rollout.state_predictions - rollout.true_states) ** 2).mean()
    torch.testing.assert_close(torch.tensor(terms["state_mse"]), want.detach())
    torch.testing.assert_close(loss, plain + 3.0 * want)
    (loss - plain).backward()  # the auxiliary loss alone reaches the glimpse network
    assert agent.policy.glimpse_network.what.weight.grad.abs().sum() > 0


def test_hybrid_loss_terms_match_their_definitions():
    t, b = 3, 4
    alive = torch.ones(t, b)
    reward = torch.zeros(t, b)
    reward[-1] = torch.tensor([1.0, 0.0, 1.0, 0.0])
    baseline = torch.full((t, b), 0.25)
    log_prob = torch.full((t, b), -1.0, requires_grad=True)
    used = torch.ones(t, b)
    used[-1] = 0
    from agents.ram import Rollout

    rollout = Rollout(
        log_prob,
        torch.zeros(t, b),
        torch.zeros(t, b),
        baseline,
        reward,
        alive,
        used,
        torch.zeros(b, 10),
        torch.zeros(b, dtype=torch.long),
        torch.zeros(t, b, 2),
    )
    loss, terms = hybrid_loss(rollout, supervised=True)
    advantage = reward[-1] - 0.25  # R - b_t at every step
    assert terms["location_pg"] == pytest.approx(float(-(-1.0 * advantage).sum() * 2 / b))
    assert terms["baseline_mse"] == pytest.approx(float(((reward[-1] - 0.25) ** 2).mean()))
    assert terms["cross_entropy"] == pytest.approx(float(np.log(10)))


def test_save_load_round_trip_gives_identical_predictions(trained, tmp_path):
    import gymnasium as gym

    agent, _ = trained
    path = agent.save(tmp_path / "ram.pt")
    clone = RAM.load(path)
    assert clone.num_timesteps == agent.num_timesteps and clone.config == agent.config
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=16, split="test")
    obs, _ = vec.reset(seed=3)
    a1, s1 = agent.predict(obs)
    a2, s2 = clone.predict(obs)
    np.testing.assert_array_equal(a1["location"], a2["location"])
    np.testing.assert_array_equal(a1["label"], a2["label"])
    np.testing.assert_array_equal(s1[0], s2[0])
    data = torch.load(path, weights_only=True)  # plain data: loads without unpickling code
    assert data["env_id"] == "RAM-MNIST-v0" and "versions" in data


def test_bad_checkpoints_get_clear_errors(trained, tmp_path):
    agent, _ = trained
    good = agent.save(tmp_path / "good.pt")
    with pytest.raises(CheckpointError, match="not found"):
        RAM.load(tmp_path / "missing.pt")
    (tmp_path / "garbage.pt").write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="corrupt"):
        RAM.load(tmp_path / "garbage.pt")
    (tmp_path / "truncated.pt").write_bytes(good.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="corrupt"):
        RAM.load(tmp_path / "truncated.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a ram-gym checkpoint"):
        RAM.load(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="trained on 'RAM-MNIST-v0', not 'RAM-Catch-v0'"):
        RAM.load(good, env_id="RAM-Catch-v0")
    data = torch.load(good, weights_only=True)
    data["config"]["hidden_size"] = 128
    resave(data, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="weights do not fit"):
        RAM.load(tmp_path / "mismatch.pt")
    data = torch.load(good, weights_only=True)
    data["algo"] = "ppo"
    resave(data, tmp_path / "ppo.pt")
    with pytest.raises(CheckpointError, match="'ppo' model, not 'ram'"):
        RAM.load(tmp_path / "ppo.pt")
    data["algo"], data["format_version"] = "ram", 99
    resave(data, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="newer"):
        load_checkpoint(tmp_path / "future.pt")


def test_bad_arguments_and_observations():
    with pytest.raises(ValueError, match="unknown RAM hyper-parameter"):
        RAM("RAM-MNIST-v0", learning_rte=1e-3)
    with pytest.raises(ValueError, match="core must be"):
        RAM("RAM-MNIST-v0", core="gru")
    with pytest.raises(ValueError, match="Dict\\(glimpse, location"):
        RAM("RAM-Catch-v0", env_kwargs={"obs_mode": "full"})
    with pytest.raises(ValueError, match="supervised=True"):
        RAM("RAM-Catch-v0", supervised=True)
    with pytest.raises(ValueError, match="num_envs must be of type int"):
        RAM("RAM-MNIST-v0", num_envs=4.5)
    with pytest.raises(ValueError, match="normalize_advantage must be of type bool"):
        RAM("RAM-MNIST-v0", normalize_advantage="yes")
    assert RAM("RAM-MNIST-v0", learning_rate="3e-4").config.learning_rate == 3e-4  # YAML reads 3e-4 as a string
    agent = RAM("RAM-MNIST-v0", seed=0)
    with pytest.raises(ValueError, match="glimpse must be"):
        agent.predict({"glimpse": np.zeros((3, 12, 12)), "location": np.zeros(2)})
    with pytest.raises(ValueError, match="NaN"):
        agent.predict({"glimpse": np.full((1, 8, 8), np.nan), "location": np.zeros(2)})
    with pytest.raises(ValueError, match="state must be"):
        agent.predict({"glimpse": np.zeros((1, 8, 8)), "location": np.zeros(2)}, state=(np.zeros((2, 256)),))
    with pytest.raises(ValueError, match="episode_start"):
        agent.predict({"glimpse": np.zeros((2, 1, 8, 8)), "location": np.zeros((2, 2))}, episode_start=np.ones(3))
    with pytest.raises(ValueError, match="location_std"):
        RecurrentAttentionModel((1, 8, 8), 10, location_std=0.0)


def test_episode_start_resets_the_state():
    agent = RAM("RAM-MNIST-v0", seed=0)
    obs = {
        "glimpse": np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32),
        "location": np.zeros((2, 2), np.float32),
    }
    _, fresh = agent.predict(obs)
    _, state = agent.predict(obs, fresh)
    _, restarted = agent.predict(obs, state, episode_start=np.array([True, False]))
    np.testing.assert_allclose(restarted[0][0], fresh[0][0], atol=1e-6)
    assert not np.allclose(restarted[0][1], fresh[0][1])


def test_rollouts_per_image_trains_on_groups_of_one_image():
    agent = RAM("RAM-ClutteredMNIST-v0", seed=0, num_envs=8, rollouts_per_image=4)
    envs = agent._make_envs()
    rollout = agent.collect(envs, seed=0)
    assert rollout.labels[:4].unique().numel() == 1 and rollout.labels[4:].unique().numel() == 1
    assert agent.learn(640).num_timesteps >= 640
    with pytest.raises(ValueError, match="rollouts_per_image must divide num_envs"):
        RAM("RAM-MNIST-v0", num_envs=6, rollouts_per_image=4)
    with pytest.raises(ValueError, match="rollouts_per_image > 1 needs a classification env"):
        RAM("RAM-Catch-v0", num_envs=4, rollouts_per_image=2, critic="state")


def test_weight_average_is_the_ramped_moving_average_and_survives_save_resume_and_load(tmp_path):
    """``weight_average``: after every update avg <- d avg + (1 - d) w with d = min(D, (1 + n) / (10 + n));
    checkpoints carry it, a resumed run continues it exactly, ``load(averaged=True)`` and
    ``save(averaged=True)`` put it in the network, and every misuse is a clear error."""
    from agents.training import AVERAGED, train

    decay = 0.6
    agent = RAM("RAM-MNIST-v0", seed=0, num_envs=16, weight_average=decay)
    snapshots = []

    def record(metrics):
        snapshots.append({k: p.detach().clone() for k, p in agent.policy.named_parameters()})

    agent.learn(16 * 6 * 5, callback=record)  # 5 updates of 16 episodes x 6 glimpses
    assert len(snapshots) == 5
    expected = {k: v.clone() for k, v in snapshots[0].items()}  # the first update starts the average
    for n, weights in enumerate(snapshots[1:], start=1):
        d = min(decay, (1 + n) / (10 + n))
        for k in expected:
            expected[k] = d * expected[k] + (1 - d) * weights[k]
    assert agent.averaged_weights is not None
    for k, v in expected.items():
        torch.testing.assert_close(agent.averaged_weights[k], v)
    assert any(not torch.equal(agent.averaged_weights[k], snapshots[-1][k]) for k in expected)  # not the last weights

    # a run stopped and resumed continues the average as an uninterrupted one does
    straight = RAM("RAM-MNIST-v0", seed=0, num_envs=16, weight_average=0.9).learn(16 * 6 * 6)
    half = RAM("RAM-MNIST-v0", seed=0, num_envs=16, weight_average=0.9)
    half.total_timesteps = 16 * 6 * 6
    half.learn(16 * 6 * 3, reset_num_timesteps=False)
    resumed = RAM.load(half.save(tmp_path / "half.pt")).learn(16 * 6 * 6, reset_num_timesteps=False)
    for k, v in straight.averaged_weights.items():
        torch.testing.assert_close(resumed.averaged_weights[k], v)

    # load(averaged=True) and save(averaged=True) give the network the averaged weights
    path = straight.save(tmp_path / "full.pt")
    averaged = RAM.load(path, averaged=True)
    for k, p in averaged.policy.named_parameters():
        torch.testing.assert_close(p.detach(), straight.averaged_weights[k])
    only = RAM.load(straight.save(tmp_path / "avg.pt", averaged=True))
    assert only.checkpoint_extra["weights"].startswith("moving average")
    for k, p in only.policy.named_parameters():
        torch.testing.assert_close(p.detach(), straight.averaged_weights[k])
    # a finished run writes the averaged model beside model.pt
    outcome = train(RAM("RAM-MNIST-v0", seed=0, num_envs=16, weight_average=0.9), tmp_path / "run", 16 * 6 * 2)
    assert outcome.finished and (tmp_path / "run" / AVERAGED).is_file()

    # misuse
    plain_agent = RAM("RAM-MNIST-v0", seed=0, num_envs=16).learn(16 * 6)
    assert plain_agent.averaged_weights is None
    with pytest.raises(ValueError, match="no averaged weights"):
        plain_agent.save(tmp_path / "x.pt", averaged=True)
    with pytest.raises(CheckpointError, match="has no averaged weights"):
        RAM.load(plain_agent.save(tmp_path / "plain.pt"), averaged=True)
    with pytest.raises(ValueError, match=r"weight_average must be in \[0, 1\)"):
        RAM("RAM-MNIST-v0", weight_average=1.0)
    data = torch.load(path, weights_only=True)
    name = next(iter(data["model_averaged"]))
    data["model_averaged"][name] = torch.zeros(3)
    resave(data, tmp_path / "bad_shape.pt")
    with pytest.raises(CheckpointError, match=f"model_averaged.{name} should be a float tensor of shape"):
        RAM.load(tmp_path / "bad_shape.pt")
    data["model_averaged"] = {"nope": torch.zeros(3)}
    resave(data, tmp_path / "bad_names.pt")
    with pytest.raises(CheckpointError, match="does not name this network's parameters"):
        RAM.load(tmp_path / "bad_names.pt")
