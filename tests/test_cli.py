"""The `ram` command line: help, train/eval, interrupted runs resumed exactly, bad input."""

import csv
import json
import os
import re
import signal
import subprocess
import sys

import pytest
import torch

from agents import cli
from agents.ram import RAM

TINY = [
    "--env",
    "RAM-MNIST-v0",
    "--steps",
    "3072",
    "--num-envs",
    "32",
    "--no-progress",
    "--eval-episodes",
    "200",
    "--checkpoint-every",
    "2",
]


@pytest.mark.parametrize("command", [[], ["train"], ["eval"], ["play"], ["envs"]])
def test_help_is_complete(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "usage: ram" in text
    expected = {
        "train": ["--env", "--steps", "--seed", "--out", "--resume", "--checkpoint-every", "--minutes"],
        "eval": ["--split", "--episodes", "--mc-samples"],
        "": ["train", "eval", "play", "envs"],
    }
    for flag in expected.get(command[0] if command else "", []):
        assert flag in text


def test_console_script_is_installed_or_module_runs():
    result = subprocess.run([sys.executable, "-m", "agents.cli", "envs"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "RAM-ClutteredMNIST-v0" in result.stdout


def test_train_writes_logs_checkpoints_and_scores(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", *TINY, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "200 episodes" in printed
    for name in ("model.pt", "checkpoint.pt", "progress.csv", "config.json", "eval.json"):
        assert (out / name).exists(), name
    rows = list(csv.DictReader(open(out / "progress.csv")))
    assert len(rows) == 16  # 3072 steps / (32 envs x 6 steps)
    assert {"reward", "accuracy", "cross_entropy", "location_pg", "baseline_mse", "location_std"} <= set(rows[0])
    assert list((out / "tensorboard").iterdir())
    assert json.loads((out / "eval.json").read_text())["episodes"] == 200
    assert cli.main(["eval", str(out / "model.pt"), "--episodes", "100", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["episodes"] == 100


def test_refuses_to_overwrite_a_run(tmp_path, cli_error):
    out = tmp_path / "run"
    assert cli.main(["train", *TINY, "--out", str(out), "--eval-episodes", "0"]) == 0
    assert re.search("already holds a run", cli_error(["train", *TINY, "--out", str(out)]))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch, capsys, signum):
    """Ctrl-C (SIGINT) or SIGTERM in the middle of an update: the update finishes, a final
    checkpoint is written, and --resume ends bit-identical to an uninterrupted run."""
    straight = tmp_path / "straight"
    assert cli.main(["train", *TINY, "--out", str(straight), "--eval-episodes", "0"]) == 0

    real_step = RAM.train_step
    calls = {"n": 0}

    def interrupted_step(self, envs, seed=None):
        calls["n"] += 1
        if calls["n"] == 7:  # the signal arrives during update 7
            os.kill(os.getpid(), signum)
        return real_step(self, envs, seed)

    monkeypatch.setattr(RAM, "train_step", interrupted_step)
    broken = tmp_path / "broken"
    assert cli.main(["train", *TINY, "--out", str(broken), "--eval-episodes", "0"]) == 130
    assert "--resume" in capsys.readouterr().out
    assert RAM.load(broken / "checkpoint.pt").num_updates == 7
    assert not (broken / "model.pt").exists()
    monkeypatch.setattr(RAM, "train_step", real_step)
    assert (
        cli.main(
            [
                "train",
                "--env",
                "RAM-MNIST-v0",
                "--out",
                str(broken),
                "--resume",
                "--no-progress",
                "--eval-episodes",
                "0",
            ]
        )
        == 0
    )
    a = torch.load(straight / "model.pt", weights_only=True)
    b = torch.load(broken / "model.pt", weights_only=True)
    assert a["progress"] == b["progress"]
    for key in a["model"]:
        torch.testing.assert_close(a["model"][key], b["model"][key], rtol=0, atol=0)
    assert len(list(csv.DictReader(open(broken / "progress.csv")))) == 16


def test_bad_cli_input(tmp_path, cli_error):
    assert re.search(
        "no checkpoint.pt", cli_error(["train", "--env", "RAM-MNIST-v0", "--out", str(tmp_path / "none"), "--resume"])
    )
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("learning_rate: [1e-3\n")
    assert re.search(
        "not valid YAML",
        cli_error(["train", "--env", "RAM-MNIST-v0", "--out", str(tmp_path / "a"), "--config", str(bad_yaml)]),
    )
    bad_yaml.write_text("- 1\n- 2\n")
    assert re.search(
        "mapping",
        cli_error(["train", "--env", "RAM-MNIST-v0", "--out", str(tmp_path / "b"), "--config", str(bad_yaml)]),
    )
    assert re.search(
        "unknown RAM hyper-parameter",
        cli_error(["train", "--env", "RAM-MNIST-v0", "--out", str(tmp_path / "c"), "--set", "lr=1"]),
    )
    assert re.search(
        "unknown keyword",
        cli_error(["train", "--env", "RAM-MNIST-v0", "--out", str(tmp_path / "d"), "--env-arg", "glimpses=3"]),
    )
    assert re.search(
        "key=value", cli_error(["train", "--env", "RAM-MNIST-v0", "--out", str(tmp_path / "e"), "--set", "oops"])
    )
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert re.search("corrupt", cli_error(["eval", str(tmp_path / "junk.pt")]))


def test_missing_optional_dependency_names_the_extra(monkeypatch, cli_error):
    def no_matplotlib(args):
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    monkeypatch.setattr(cli, "cmd_plot", no_matplotlib)
    assert re.search(r"pip install 'ram-gym\[viz\]'", cli_error(["plot", "somewhere"]))


def test_envs_marks_shipped_models_and_catch_scores_read_as_catch_rates(capsys):
    assert cli.main(["envs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "shipped model" in lines[0]
    assert any(line.startswith("RAM-Catch-v0") and " yes " in line for line in lines)
    assert any(line.startswith("RAM-Glimpse-v0") and "your own images" in line for line in lines)
    assert cli.main(["eval", "--pretrained", "RAM-Catch-v0", "--episodes", "50"]) == 0
    text = capsys.readouterr().out
    assert "catch rate" in text and "% missed" in text and "error" not in text


def test_resumed_run_reports_this_sessions_steps_and_time(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", *TINY, "--out", str(out), "--eval-episodes", "0", "--minutes", "0.0001"]) == 0
    first = capsys.readouterr().out
    assert "stopped by time limit" in first and "by this command" in first
    assert cli.main(["train", "--env", "RAM-MNIST-v0", "--out", str(out), "--resume", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "trained ram to 3,072 steps (" in printed and "by this command" in printed


def test_hparams_from_builds_what_ram_train_builds(tmp_path):
    """The public ``hparams_from``: a recipe, then --set (later wins), --num-envs and --env-arg."""
    got = cli.hparams_from(
        "ram", "ram_mnist", ["learning_rate=0.003", "core=lstm"], ["initial_location=center"], num_envs=64
    )
    assert got["learning_rate"] == 0.003 and got["core"] == "lstm" and got["num_envs"] == 64
    assert got["lr_schedule"] == "cosine"  # from the recipe
    assert got["env_kwargs"] == {"initial_location": "center"}
    assert "env_kwargs" not in cli.hparams_from("ppo")
    with pytest.raises(ValueError, match="--set takes key=value"):
        cli.hparams_from("ram", sets=["learning_rate"])
    with pytest.raises(ValueError, match="--env-arg takes key=value"):
        cli.hparams_from("ram", env_args=["=3"])
    with pytest.raises(ValueError, match="the value"):
        cli.hparams_from("ram", sets=["learning_rate=[1"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("learning_rate: [1\n")
    with pytest.raises(ValueError, match="--config"):
        cli.hparams_from("ram", str(bad))


def test_resume_accepts_the_same_settings_and_refuses_changed_ones(tmp_path, cli_error):
    """A resumed run keeps the settings it was started with: the original command with
    --resume added works, a flag that would change a setting is an error naming it."""
    out = str(tmp_path / "run")
    start = [
        "train",
        "--env",
        "RAM-MNIST-v0",
        "--out",
        out,
        "--no-progress",
        "--no-tensorboard",
        "--eval-episodes",
        "0",
    ]
    same = ["--config", "ram_mnist", "--set", "learning_rate=0.002", "--num-envs", "8", "--env-arg", "n_glimpses=4"]
    assert cli.main([*start, *same, "--steps", "320", "--seed", "3"]) == 0
    assert cli.main([*start, *same, "--steps", "640", "--seed", "3", "--resume"]) == 0  # the same settings
    for changed, named in [
        (["--set", "learning_rate=0.1"], "learning_rate=0.1 (the run's: 0.002)"),
        (["--num-envs", "16"], "num_envs=16 (the run's: 8)"),
        (["--env-arg", "n_glimpses=6"], "env n_glimpses=6 (the run's: 4)"),
        (["--seed", "4"], "seed 4 (the run's: 3)"),
        (["--config", "ram_translated_lstm"], "core='lstm'"),
    ]:
        message = cli_error([*start, "--steps", "960", "--resume", *changed])
        assert named in message and "start a new run" in message, message
    assert "no_such_field" in cli_error([*start, "--resume", "--set", "no_such_field=1"])


def test_init_from_fine_tunes_a_model_and_counts_its_training(tmp_path, cli_error):
    """--init-from starts a new run from a model's weights, with that model's settings (or
    --config) and --set over them; config.json records the model and run_history adds its
    training; a network that does not fit, --resume with it and a missing file are errors."""
    from agents.training import run_history

    quiet = ["--no-progress", "--no-tensorboard", "--eval-episodes", "0"]
    parent = tmp_path / "parent"
    base = ["train", "--env", "RAM-MNIST-v0", *quiet]
    assert cli.main([*base, "--steps", "640", "--num-envs", "16", "--set", "hidden_size=64", "--out", str(parent)]) == 0
    child = tmp_path / "child"
    fine = [*base, "--init-from", str(parent / "model.pt"), "--set", "learning_rate=3e-4", "--steps", "320"]
    assert cli.main([*fine, "--out", str(child), "--set", "lr_warmup_steps=1000"]) == 0
    record = json.loads((child / "config.json").read_text())
    assert record["config"]["hidden_size"] == 64 and record["config"]["num_envs"] == 16  # the parent's settings
    assert record["config"]["learning_rate"] == 3e-4  # --set over them
    parent_steps, child_steps = RAM.load(parent / "model.pt").num_timesteps, RAM.load(child / "model.pt").num_timesteps
    assert record["init_from"]["env_steps"] == parent_steps == 672 and len(record["init_from"]["sha256"]) == 64
    command, seconds, steps = run_history(child)
    assert steps == parent_steps + child_steps and command.count("; then ") == 1  # the parent's command first
    rows = list(csv.DictReader(open(child / "progress.csv")))
    assert float(rows[0]["learning_rate"]) < 3e-4 * 0.5  # warming up
    # the weights carried over: with a learning rate of ~0 the fine-tuned network is the parent's
    still = tmp_path / "still"
    assert cli.main([*fine, "--set", "learning_rate=1e-12", "--out", str(still)]) == 0
    before, after = RAM.load(parent / "model.pt").policy.state_dict(), RAM.load(still / "model.pt").policy.state_dict()
    assert all(torch.allclose(before[name], after[name], atol=1e-8) for name in before)
    misfit = cli_error([*fine, "--set", "hidden_size=32", "--out", str(tmp_path / "c2")])
    assert "does not fit" in misfit and "(10, 64) there, (10, 32) here" in misfit
    other_env = ["train", "--env", "RAM-TranslatedMNIST-v0", *quiet, "--init-from", str(parent / "model.pt")]
    assert "glimpses of shape" in cli_error([*other_env, "--out", str(tmp_path / "c5")])
    assert "give one of them" in cli_error([*fine, "--resume", "--out", str(child)])
    assert "no such file" in cli_error([*base, "--init-from", "no-such-model", "--out", str(tmp_path / "c3")])
    assert "not ppo" in cli_error(
        [*base, "--algo", "ppo", "--init-from", str(parent / "model.pt"), "--out", str(tmp_path / "c4")]
    )


def test_eval_averaged_scores_the_moving_average_of_the_weights(tmp_path, cli_error, capsys):
    """--set weight_average=D: the run writes model_averaged.pt, and ``ram eval --averaged``
    scores a checkpoint's average (the same figure); a run without one is a clear error."""
    quiet = ["--no-progress", "--no-tensorboard", "--eval-episodes", "0", "--num-envs", "16", "--steps", "640"]
    run = tmp_path / "avg"
    assert cli.main(["train", "--env", "RAM-MNIST-v0", *quiet, "--set", "weight_average=0.9", "--out", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["config"]["weight_average"] == 0.9
    capsys.readouterr()
    scores = []
    for args in ([str(run / "model_averaged.pt")], [str(run / "checkpoint.pt"), "--averaged"], [str(run / "model.pt")]):
        assert cli.main(["eval", *args, "--episodes", "200", "--json"]) == 0
        scores.append(json.loads(capsys.readouterr().out)["error"])
    assert scores[0] == scores[1]  # the same weights by either route
    plain = tmp_path / "plain"
    assert cli.main(["train", "--env", "RAM-MNIST-v0", *quiet, "--out", str(plain)]) == 0
    assert not (plain / "model_averaged.pt").exists()
    assert "has no averaged weights" in cli_error(["eval", str(plain / "model.pt"), "--averaged"])


def test_without_the_agent_extras_ram_says_which_extra_to_install():
    """``pip install ram-gym`` alone (no torch): ``ram --version``, ``--help`` and ``envs``
    work, and a command that needs torch prints one line naming the extra, exit code 2."""
    import subprocess
    import sys

    block = "import sys; sys.modules['torch'] = None; from agents.cli import main; sys.exit(main({}))"
    for argv, rc in ((["--version"], 0), (["envs"], 0), (["train", "--env", "RAM-MNIST-v0"], 2)):
        done = subprocess.run([sys.executable, "-c", block.format(argv)], capture_output=True, text=True)
        assert done.returncode == rc, (argv, done.stderr)
        if rc == 2:
            assert done.stderr.strip().splitlines() == [
                "ram train: needs 'torch', which is not installed: pip install 'ram-gym[agents]' (or 'ram-gym[all]')"
            ]
    version = subprocess.run([sys.executable, "-m", "agents.cli", "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("ram (ram-gym) ")
