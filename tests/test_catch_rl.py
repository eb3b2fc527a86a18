"""Catch from the reward alone: the glimpse predictor (an observation-only auxiliary loss), the
rl-track recipe, Catch's validation games, and shipped models chosen by track."""

from __future__ import annotations

import pytest
import torch

from agents.pretrained import checkpoint_track
from agents.ram import RAM
from agents.ram.losses import glimpse_prediction_error, hybrid_loss
from agents.ram.recipes import load_recipe


def small_catch(**kwargs):
    return RAM("RAM-Catch-v0", seed=0, num_envs=8, hidden_size=32, glimpse_hidden=16, glimpse_out=32, **kwargs)


def test_the_glimpse_predictor_guesses_the_glimpse_the_env_returns_next():
    agent = small_catch(glimpse_prediction_weight=1.0)
    assert agent.track == "rl"  # it reads the agent's own observations only
    envs = agent._make_envs()
    rollout = agent.collect(envs, seed=0)
    steps, batch = rollout.alive.shape
    assert rollout.glimpse_predictions.shape == rollout.next_glimpses.shape == (steps, batch, 3 * 6 * 6)
    assert torch.all((rollout.next_glimpses >= 0) & (rollout.next_glimpses <= 1))
    error = glimpse_prediction_error(rollout)
    used = rollout.location_used
    want = (((rollout.glimpse_predictions - rollout.next_glimpses) ** 2).sum(-1) * used).sum() / used.sum()
    torch.testing.assert_close(error, want)
    loss, terms = hybrid_loss(rollout, False, **agent.config.loss_options())
    assert terms["glimpse_mse"] == pytest.approx(error.item())
    loss.backward()
    head = agent.policy.glimpse_predictor.predict[0].weight
    core = agent.policy.core_network.cell.weight_ih
    assert head.grad is not None and head.grad.abs().sum() > 0
    assert core.grad is not None and core.grad.abs().sum() > 0  # the core learns from it


def test_the_glimpse_predictor_learns_what_a_glimpse_holds():
    agent = small_catch(glimpse_prediction_weight=1.0, env_kwargs={"retina_reduction": "max"})
    envs = agent._make_envs()
    rollout = agent.collect(envs, seed=0)
    first = glimpse_prediction_error(rollout).item()
    used = rollout.location_used
    nothing = (((rollout.next_glimpses**2).sum(-1) * used).sum() / used.sum()).item()  # "an empty screen"
    agent.learn(8 * 23 * 60)
    after = glimpse_prediction_error(agent.collect(envs, seed=0)).item()
    assert after < 0.85 * first and after < 0.95 * nothing, (first, nothing, after)


def test_without_the_predictor_nothing_is_recorded_and_bad_weights_are_named():
    agent = small_catch()
    rollout = agent.collect(agent._make_envs(), seed=0)
    assert rollout.glimpse_predictions is None and agent.policy.glimpse_predictor is None
    assert glimpse_prediction_error(rollout).item() == 0.0
    with pytest.raises(ValueError, match="glimpse_prediction_weight must be >= 0"):
        small_catch(glimpse_prediction_weight=-1.0)


def test_the_rl_recipe_reads_neither_the_state_nor_the_label():
    recipe = load_recipe("ram_catch_rl")
    agent = RAM("RAM-Catch-v0", seed=0, **{**recipe, "num_envs": 4})
    assert agent.track == "rl"
    assert agent.policy.state_critic is None and agent.policy.state_decoder is None
    assert agent.env_kwargs["retina_reduction"] == "max"
    with pytest.warns() as record:  # the plain paper REINFORCE is warned about; the recipe is not
        RAM("RAM-Catch-v0", seed=0, num_envs=4)
    assert any("ram_catch_rl" in str(w.message) for w in record)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RAM("RAM-Catch-v0", seed=0, **{**recipe, "num_envs": 4})


def test_catch_validation_games_are_not_the_test_games():
    from agents.evaluation import VALIDATION_SEED, evaluate

    agent = small_catch()
    test = evaluate(agent, n_episodes=20, num_envs=20)
    validation = evaluate(agent, n_episodes=20, num_envs=20, split="validation")
    assert test.seed == 0 and validation.seed == VALIDATION_SEED
    with pytest.raises(ValueError, match="'test' or 'validation' games"):
        evaluate(agent, n_episodes=20, split="train")


def test_checkpoints_declare_their_track(tmp_path):
    from agents.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

    rl = small_catch().save(tmp_path / "rl.pt")
    assert load_checkpoint(rl)["track"] == "rl"
    privileged = small_catch(state_loss_weight=1.0).save(tmp_path / "p.pt")
    assert checkpoint_track(load_checkpoint(privileged)) == "privileged"
    data = load_checkpoint(rl)
    data.pop("track")
    assert checkpoint_track(data) == "rl"  # older files: read from the config
    data["track"] = "cheat"
    for key in ("format", "format_version", "versions"):
        data.pop(key, None)
    save_checkpoint(tmp_path / "bad.pt", data)
    with pytest.raises(CheckpointError, match="field track must be"):
        load_checkpoint(tmp_path / "bad.pt")


def test_shipped_models_are_chosen_by_track(tmp_path, monkeypatch):
    import agents.pretrained as pretrained

    small_catch(state_loss_weight=1.0).save(tmp_path / "RAM-Catch-v0.pt", extra={"test_error": 0.01})
    small_catch().save(tmp_path / "RAM-Catch-v0.rl.pt", extra={"test_error": 0.05})
    monkeypatch.setattr(pretrained, "_folder", lambda: tmp_path)
    assert pretrained.available() == ["RAM-Catch-v0"]
    assert pretrained.tracks("RAM-Catch-v0") == ["privileged", "rl"]
    assert pretrained.pretrained_path("RAM-Catch-v0", "rl").name == "RAM-Catch-v0.rl.pt"
    assert pretrained.pretrained_path("RAM-Catch-v0", "privileged").name == "RAM-Catch-v0.pt"
    assert pretrained.pretrained_path("RAM-Catch-v0").name == "RAM-Catch-v0.pt"
    assert RAM.load_pretrained("RAM-Catch-v0", track="rl").track == "rl"
    assert pretrained.model_card("RAM-Catch-v0", "rl").test_error == 0.05
    (tmp_path / "RAM-Catch-v0.rl.pt").unlink()
    with pytest.raises(FileNotFoundError, match="no rl-track model .* shipped track\\(s\\): privileged"):
        pretrained.pretrained_path("RAM-Catch-v0", "rl")
    with pytest.raises(ValueError, match="track must be one of"):
        pretrained.pretrained_path("RAM-Catch-v0", "best")


def test_ram_eval_track_needs_pretrained(capsys):
    from agents.cli import main

    assert main(["eval", "model.pt", "--track", "rl"]) == 2
    assert "--track chooses among the shipped models" in capsys.readouterr().err
    assert main(["eval", "--pretrained", "RAM-MNIST-v0", "--track", "rl"]) == 2
    assert "no rl-track model is shipped for 'RAM-MNIST-v0'" in capsys.readouterr().err
