"""Shipped checkpoints load and score what they recorded (on a 1,000-image slice, fast enough for CI)."""

import pytest

from agents.evaluation import evaluate
from agents.pretrained import available, pretrained_path, tracks
from agents.ram import RAM

#: every shipped model: (env id, track)
SHIPPED = [(env_id, track) for env_id in available() for track in tracks(env_id)]


def test_something_is_shipped():
    assert "RAM-MNIST-v0" in available()


@pytest.mark.parametrize(("env_id", "track"), SHIPPED)
def test_shipped_checkpoint_scores_its_recorded_error(env_id, track):
    import torch

    raw = torch.load(pretrained_path(env_id, track), weights_only=True)
    assert raw["format_version"] == 2 and len(raw["digest"]) == 64  # integrity-checked on load
    agent = RAM.load_pretrained(env_id, track)
    assert agent.track == track
    recorded = agent.checkpoint_extra
    assert {"test_error", "test_error_first_1000", "command"} <= set(recorded)
    result = evaluate(agent, n_episodes=1000)
    # deterministic policy, fixed images and seed: the same number, up to float noise on ties
    assert abs(result.error - recorded["test_error_first_1000"]) <= 0.002, (result.error, recorded)


def test_catch_ships_a_model_of_each_track_and_the_rl_one_reads_no_state():
    assert tracks("RAM-Catch-v0") == ["privileged", "rl"]
    rl = RAM.load_pretrained("RAM-Catch-v0", track="rl")
    assert rl.policy.state_critic is None and rl.policy.state_decoder is None
    assert rl.config.critic != "state" and rl.config.state_loss_weight == 0 and not rl.config.supervised
    assert RAM.load_pretrained("RAM-Catch-v0").track == "privileged"


def test_unknown_pretrained_id_names_what_is_shipped():
    with pytest.raises(FileNotFoundError, match="shipped: .*RAM-MNIST-v0"):
        pretrained_path("RAM-Nope-v0")


@pytest.mark.parametrize("env_id", [e for e in available() if e != "RAM-Catch-v0"])
def test_a_users_own_loop_on_the_env_the_page_names_gets_the_pages_figure(env_id):
    """Written against the public API only, as a user would: make the env the model card names
    (``gym.make(env_id, **card.env_kwargs)``, as its docs page shows), step the test split with
    ``reset(seed=i)`` and ``predict``, and get the recorded error of the first 1,000 images."""
    import gymnasium as gym

    import ram_env  # noqa: F401  (registers the ids)
    from agents.pretrained import model_card

    card = model_card(env_id)
    agent = RAM.load_pretrained(env_id)
    envs = gym.make_vec(env_id, num_envs=250, split="test", **card.env_kwargs)
    wrong = 0
    for first in range(0, 1000, 250):
        obs, info = envs.reset(seed=first)  # env i plays test image first + i
        assert list(info["index"]) == list(range(first, first + 250))
        state, done = None, False
        while not done:
            action, state = agent.predict(obs, state)
            obs, reward, terminated, truncated, info = envs.step(action)
            done = bool(terminated.all())
        wrong += int((reward == 0).sum())
    assert abs(wrong / 1000 - agent.checkpoint_extra["test_error_first_1000"]) <= 0.002
    assert card.make.startswith(f'gym.make("{env_id}"')
    single = agent.make_env(split="test")
    assert single.reset(seed=7)[1]["index"] == 7 and single.reset()[1]["index"] == 8
