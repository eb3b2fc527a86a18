"""A plug-in agent that breaks the contract ends in one line naming the plug-in and what it did
wrong (``ram train``/``ram eval``: exit code 2; Python: a ``ValueError`` chained to what it
raised), never in a traceback; ram-gym's own agents' errors are left as they are."""

from __future__ import annotations

import copy
import pickle

import pytest

from agents.base import Algorithm
from agents.evaluation import evaluate
from agents.registry import algorithm, load_agent, make_agent, plugin
from agents.training import train

BAD = "plugin_agents:Misbehaving"
NAMED = f"plug-in agent {BAD!r}"
TRAIN = ["train", "--env", "RAM-MNIST-v0", "--no-progress", "--no-tensorboard", "--eval-episodes", "10"]


def checkpoint(tmp_path, fault: str):
    """A saved ``Misbehaving`` agent that breaks the contract as ``fault`` says."""
    agent = make_agent(BAD, "RAM-MNIST-v0", 0, {"fault": "none"})
    agent.fault = fault
    return agent.save(tmp_path / "agent.json")


@pytest.mark.parametrize(
    "source, raised",
    [
        ("raise RuntimeError('no GPU here,\\nsays line two')\n", "RuntimeError: no GPU here, says line two"),
        ("def broken(:\n", "SyntaxError: "),
        ("import sys\nsys.modules['nope'].x\n", "KeyError: 'nope'"),
    ],
)
def test_a_plugin_module_that_raises_on_import_is_named(tmp_path, monkeypatch, cli_error, source, raised):
    (tmp_path / "broken_plugin.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "broken_plugin", raising=False)
    message = cli_error([*TRAIN, "--algo", "broken_plugin:Agent", "--out", str(tmp_path / "r")])
    assert "plug-in agent 'broken_plugin:Agent': importing module 'broken_plugin' raised" in message
    assert raised in message
    with pytest.raises(ValueError, match="'broken_plugin:Agent': importing module 'broken_plugin' raised") as info:
        algorithm("broken_plugin:Agent")
    assert info.value.__cause__ is not None


def test_a_plugin_constructor_that_raises_is_named(tmp_path, cli_error):
    message = cli_error([*TRAIN, "--algo", BAD, "--set", "fault=init", "--out", str(tmp_path / "r")])
    assert f"{NAMED}: its constructor raised RuntimeError: Misbehaving cannot start: no GPU here" in message
    with pytest.raises(ValueError, match="its constructor raised RuntimeError") as info:
        make_agent(BAD, "RAM-MNIST-v0", 0, {"fault": "init"})
    assert isinstance(info.value.__cause__, RuntimeError)
    with pytest.raises(ValueError, match="its constructor raised TypeError: .*unexpected keyword argument 'colour'"):
        make_agent(BAD, "RAM-MNIST-v0", 0, {"colour": "red"})


ACTION_FAULTS = [
    ("predict-raises", "predict() raised KeyError: 'glimpse'"),
    ("predict-none", "predict() returned None, not an (action, state) pair"),
    ("action-only", "predict() returned a dict, not an (action, state) pair"),
    ("missing-key", "predict()'s action lacks 'label' (the env's action space has ['label', 'location'])"),
    ("shape", "predict()'s action['location'] has shape (5, 3), not (5, 2) (5 envs, each Box(-1.0, 1.0, (2,)"),
    ("unbatched", "predict()'s action['location'] has shape (2,), not (5, 2) (5 envs,"),
    ("dtype", "predict()'s action['label'] has dtype <U5, not int64 (5 envs, each Discrete(10))"),
    ("nan", "predict()'s action['location'] is not finite: env 4 of 5 has [nan, nan]"),
    ("out-of-range", "predict() returned an action the env refuses: action['label'] must be in [0, 10)"),
]


@pytest.mark.parametrize("fault, message", ACTION_FAULTS)
def test_a_plugin_action_that_does_not_fit_the_action_space_is_named(tmp_path, cli_error, fault, message):
    agent = make_agent(BAD, "RAM-MNIST-v0", 0, {"fault": fault})
    with pytest.raises(ValueError) as info:
        evaluate(agent, n_episodes=10, num_envs=5)
    assert f"{NAMED}: {message}" in str(info.value)
    path = checkpoint(tmp_path, fault)
    assert f"{NAMED}: {message}" in cli_error(["eval", str(path), "--algo", BAD, "--episodes", "10", "--num-envs", "5"])


def test_a_plugin_action_fault_at_the_end_of_ram_train_is_named(tmp_path, cli_error):
    message = cli_error([*TRAIN, "--algo", BAD, "--set", "fault=predict-none", "--out", str(tmp_path / "r")])
    assert f"{NAMED}: predict() returned None" in message
    assert (tmp_path / "r" / "model.pt").exists()  # the training itself was kept
    agent = make_agent(BAD, "RAM-MNIST-v0", 0, {"fault": "nan"})
    with pytest.raises(ValueError) as info:  # scored during training: named once, not as learn()'s error
        train(agent, tmp_path / "py", 600, tensorboard=False, validate_every=60)
    assert str(info.value).startswith(f"{NAMED}: predict()'s action['location'] is not finite")


@pytest.mark.parametrize(
    "fault, message",
    [
        ("load-none", "load() returned None, not an agent"),
        ("load-junk", "load() returned a dict, which has neither predict nor evaluate: not an agent"),
        ("load-raises", "load() raised KeyError: 'weights'"),
    ],
)
def test_a_plugin_load_that_returns_no_agent_is_named(tmp_path, cli_error, fault, message):
    path = checkpoint(tmp_path, fault)
    with pytest.raises(ValueError, match="load") as info:
        load_agent(path, algo=BAD)
    assert f"{NAMED}: {message}" in str(info.value)
    assert f"{NAMED}: {message}" in cli_error(["eval", str(path), "--algo", BAD, "--episodes", "10"])


def test_a_plugin_learn_that_raises_is_named_with_the_error_chained(tmp_path, cli_error):
    argv = [*TRAIN, "--algo", "plugin_agents:Guesser", "--seed", "1", "--out", str(tmp_path / "r")]
    message = cli_error(argv)
    assert "plug-in agent 'plugin_agents:Guesser': learn() raised RuntimeError: Guesser was asked to fail" in message
    agent = make_agent("plugin_agents:Guesser", "RAM-MNIST-v0", seed=1)
    with pytest.raises(ValueError, match="'plugin_agents:Guesser': learn\\(\\) raised RuntimeError") as info:
        train(agent, tmp_path / "py", 600, tensorboard=False)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "asked to fail" in str(info.value.__cause__)


def test_a_plugin_given_as_an_algorithm_entry_is_checked_too():
    entry = plugin(
        "mine",
        Algorithm("mine", lambda e, s, h, k: None, lambda p, e: object(), 10, lambda e, h: dict(h), "returns nothing"),
    )
    with pytest.raises(ValueError, match="plug-in agent 'mine': make\\(\\) returned None, not an agent"):
        entry.make("RAM-MNIST-v0", 0, {}, {})
    with pytest.raises(ValueError, match="'mine': load\\(\\) returned an object, which has neither predict"):
        entry.load("x.pt", None)


def test_a_checked_plugin_agent_still_copies_pickles_and_trains_as_itself(tmp_path):
    agent = make_agent("plugin_agents:Guesser", "RAM-MNIST-v0")
    again = pickle.loads(pickle.dumps(agent))
    twin = copy.deepcopy(agent)
    assert isinstance(again, type(agent)) and again.guess == agent.guess
    twin.learn(120)
    again.learn(60)
    assert (agent.num_timesteps, twin.num_timesteps, again.num_timesteps) == (0, 120, 60)


def test_errors_of_builtin_agents_are_not_wrapped(tmp_path, monkeypatch):
    from agents.ram import RAM

    agent = make_agent("ram", "RAM-MNIST-v0", 0, {"num_envs": 4, "hidden_size": 8})
    assert "learn" not in vars(agent)
    monkeypatch.setattr(agent, "predict", lambda *a, **k: None)
    with pytest.raises(TypeError, match="cannot unpack"):
        evaluate(agent, n_episodes=4, num_envs=2)

    def broken_learn(self, *args, **kwargs):
        raise RuntimeError("a bug in the RAM")

    monkeypatch.setattr(RAM, "learn", broken_learn)
    with pytest.raises(RuntimeError, match="a bug in the RAM"):
        train(make_agent("ram", "RAM-MNIST-v0", 0, {"num_envs": 4}), tmp_path / "r", 600, tensorboard=False)
