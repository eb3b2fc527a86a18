"""Shipped checkpoints load and score what they recorded (on a 1,000-image slice, fast enough for CI)."""

import pytest

from agents.evaluation import evaluate
from agents.pretrained import available, pretrained_path
from agents.ram import RAM


def test_something_is_shipped():
    assert "RAM-MNIST-v0" in available()


@pytest.mark.parametrize("env_id", available())
def test_shipped_checkpoint_scores_its_recorded_error(env_id):
    import torch

    from agents.pretrained import pretrained_path

    raw = torch.load(pretrained_path(env_id), weights_only=True)
    assert raw["format_version"] == 2 and len(raw["digest"]) == 64  # integrity-checked on load
    agent = RAM.load_pretrained(env_id)
    recorded = agent.checkpoint_extra
    assert {"test_error", "test_error_first_1000", "command"} <= set(recorded)
    result = evaluate(agent, n_episodes=1000)
    # deterministic policy, fixed images and seed: the same number, up to float noise on ties
    assert abs(result.error - recorded["test_error_first_1000"]) <= 0.002, (result.error, recorded)


def test_unknown_pretrained_id_names_what_is_shipped():
    with pytest.raises(FileNotFoundError, match="shipped: .*RAM-MNIST-v0"):
        pretrained_path("RAM-Nope-v0")
