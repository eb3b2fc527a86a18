"""Bad input to the benchmark scripts gives a named error before any work starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("reference", ["not-a-commit", "0000000000000000000000000000000000000000"])
def test_bench_train_refuses_a_reference_that_is_not_a_commit(reference):
    result = run_script("benchmarks/bench_train.py", "--reference", reference, "--seconds", "0.1")
    assert result.returncode == 2
    assert f"--reference {reference!r} is not a commit" in result.stderr
    assert "fatal:" not in result.stderr  # our message, not git's
    assert "| core |" not in result.stdout  # nothing was timed


def test_recipe_study_refuses_an_unknown_variant(tmp_path):
    result = run_script(
        "benchmarks/recipe_study.py", "--study", "mnist-fast", "--variants", "base", "no-such", "--out", str(tmp_path)
    )
    assert result.returncode == 2
    assert "unknown variant(s) ['no-such'] of study 'mnist-fast'" in result.stderr
    assert not any(tmp_path.iterdir())  # no run started


def test_time_to_accuracy_refuses_a_bad_setting(tmp_path):
    result = run_script(
        "benchmarks/time_to_accuracy.py", "--minutes", "0.01", "--set", "no_such_field=1", "--out", str(tmp_path / "t")
    )
    assert result.returncode != 0
    assert "no_such_field" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "t").exists()


def test_bench_train_prints_both_tables():
    result = run_script(
        "benchmarks/bench_train.py",
        *("--env", "RAM-MNIST-v0", "--batches", "8", "--cores", "rnn", "--seconds", "0.05", "--threads", "1"),
        "--breakdown",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    speed = [line for line in lines if line.startswith("| rnn | 8 |")]
    assert len(speed) == 2  # one row in each table
    assert "| env reset ms |" in result.stdout
    update, reset, steps, model, rest = (float(x) for x in speed[1].strip("|").split("|")[2:])
    assert update > 0 and reset > 0 and model > 0
    assert abs(update - (reset + steps + model + rest)) < 0.2  # the parts add up (rounding)


def test_time_to_accuracy_refuses_an_unknown_env(tmp_path):
    result = run_script("benchmarks/time_to_accuracy.py", "--env", "RAM-Nope-v0", "--out", str(tmp_path / "t"))
    assert result.returncode == 2
    assert "unknown environment 'RAM-Nope-v0'" in result.stderr and "RAM-MNIST-v0" in result.stderr
    assert not (tmp_path / "t").exists()


def test_fixation_errors_prints_correct_and_wrong_rows_and_refuses_a_bad_n():
    result = run_script("benchmarks/fixation_errors.py", "--pretrained", "RAM-MNIST-v0", "--n", "300")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("RAM-MNIST-v0: test images 0..299, ")
    assert lines[3].startswith("| correct (") and lines[4].startswith("| wrong (")
    n_correct = int(lines[3].split("(")[1].split(")")[0])
    n_wrong = int(lines[4].split("(")[1].split(")")[0])
    assert n_correct + n_wrong == 300 and n_correct > 280  # the shipped model: about 1% wrong
    median = float(lines[3].split("|")[2].split()[0])
    assert 0 <= median < 6  # on 28x28 MNIST it looks at the digit
    bad = run_script("benchmarks/fixation_errors.py", "--pretrained", "RAM-MNIST-v0", "--n", "0")
    assert bad.returncode != 0 and "--n must be in [1, 10000]" in bad.stderr
    catch = run_script("benchmarks/fixation_errors.py", "--pretrained", "RAM-Catch-v0", "--n", "10")
    assert catch.returncode != 0 and "RAM-Catch-v0 is not a classification env" in catch.stderr


def load_recipe_study():
    import importlib.util

    spec = importlib.util.spec_from_file_location("recipe_study", REPO / "benchmarks" / "recipe_study.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["recipe_study"] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["recipe_study"]
    return module


def test_every_recipe_study_variant_is_a_valid_config():
    """Each study's base recipe plus each variant's ``--set`` items type-check as a RAMConfig
    (a typo in a study would otherwise fail only hours into the study)."""
    from agents.cli import hparams_from
    from agents.ram.config import RAMConfig, check_config, typed_hparams

    module = load_recipe_study()
    assert "clutter100" in module.STUDIES
    for name, study in module.STUDIES.items():
        assert (REPO / study.base).exists(), name
        for variant, (_, args) in study.variants.items():
            assert len(args) % 2 == 0, (name, variant)
            pairs = list(zip(args[::2], args[1::2], strict=True))
            sets = [v for flag, v in pairs if flag == "--set"]
            env_args = [v for flag, v in pairs if flag == "--env-arg"]
            assert len(sets) + len(env_args) == len(pairs), (name, variant)
            hparams = typed_hparams(hparams_from("ram", str(REPO / study.base), sets, env_args))
            hparams.pop("env_kwargs", None)
            check_config(RAMConfig(**hparams), "label")


def test_recipe_study_table_keeps_every_finished_run(tmp_path):
    """The table lists every finished run in the study directory, not only the seeds of the
    invocation that wrote it (running one variant with ``--seeds 0`` must not drop the seed-1
    runs of the others), and a variant's runs are not confused with a longer name's."""
    import json

    module = load_recipe_study()
    for run, error in (("fixed-4-s0", 0.30), ("fixed-4-s1", 0.40), ("fixed-4-std0.2-s0", 0.25)):
        (tmp_path / run).mkdir()
        (tmp_path / run / "eval.json").write_text(json.dumps({"error": error}))
        (tmp_path / run / "config.json").write_text(json.dumps({"config": {"env_kwargs": {"n_glimpses": 4}}}))
        (tmp_path / run / "progress.csv").write_text("env_steps,accuracy,time\n1000,0.5,10\n")
    (tmp_path / "base-s0").mkdir()  # started, not finished: no eval.json
    lines = module.table(module.STUDIES["clutter100"], tmp_path, 1000).splitlines()
    row = {line.split(" | ")[0].removeprefix("| "): line for line in lines if line.startswith("| ")}
    assert "| 30.00% / 40.00% | 35.00% | 4.00 |" in row["fixed-4"]
    assert "| 25.00% | 25.00% | 4.00 |" in row["fixed-4-std0.2"]
    assert "(not run yet)" in row["base"]


def test_score_run_scores_the_last_and_the_averaged_weights(tmp_path):
    """benchmarks/score_run.py: a row per set of weights (the average only when the run has
    one), figures equal to ``ram eval``'s, a summary directory, and a named error for a run
    that has not finished."""
    import json

    from agents import cli
    from agents.evaluation import evaluate
    from agents.ram import RAM

    quiet = ["--no-progress", "--no-tensorboard", "--eval-episodes", "0", "--num-envs", "16", "--steps", "640"]
    averaged, plain = tmp_path / "averaged", tmp_path / "plain"
    assert (
        cli.main(["train", "--env", "RAM-MNIST-v0", *quiet, "--set", "weight_average=0.9", "--out", str(averaged)]) == 0
    )
    assert cli.main(["train", "--env", "RAM-MNIST-v0", *quiet, "--out", str(plain)]) == 0
    summary = tmp_path / "summary"
    args = ("--episodes", "100", "--mc-samples", "3")
    result = run_script("benchmarks/score_run.py", str(averaged), *args, "--summary", str(summary))
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| averaged |")]
    assert [row.split(" | ")[1] for row in rows] == ["last", "averaged"]
    want = evaluate(RAM.load(averaged / "model.pt", averaged=True), n_episodes=100).error
    assert rows[1].split(" | ")[4] == f"{100 * want:.2f}%"  # the test column, as ram eval scores it
    assert rows[0].split(" | ")[2] == f"{RAM.load(averaged / 'model.pt').num_timesteps:,}"  # env steps
    saved = json.loads((summary / "eval.json").read_text())
    assert [e["weights"] for e in saved] == ["last", "averaged"] and saved[1]["vote"]["mc_samples"] == 3
    assert (summary / "config.json").exists() and (summary / "progress_every10th.csv").read_text().startswith("update,")
    result = run_script("benchmarks/score_run.py", str(plain), *args)
    assert result.returncode == 0, result.stderr
    assert [line.split(" | ")[1] for line in result.stdout.splitlines() if line.startswith("| plain |")] == ["last"]
    (plain / "model.pt").unlink()
    result = run_script("benchmarks/score_run.py", str(plain))
    assert result.returncode == 2
    assert "model.pt does not exist (not finished: score its checkpoint with --checkpoint)" in result.stderr


def load_reliability():
    import importlib.util

    spec = importlib.util.spec_from_file_location("reliability", REPO / "benchmarks" / "reliability.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reliability_classifies_code_run_hangs_checks_and_one_line_errors(tmp_path):
    """benchmarks/reliability.py: a probe's marker file makes it code-run whatever else it did;
    a `ram` exit 2 is clear only with one stderr line naming the problem; a check's own
    verdict stands; a probe past its time limit is a hang."""
    import time

    module = load_reliability()
    marker = tmp_path / "ran"
    planted = module.Case("planted", lambda: marker.write_text("imported") and 2, (ValueError,), ["x"], marker)
    assert module.classify(planted) == "code-run" and not marker.exists()
    refused = module.Case("refused", lambda: int("x"), (ValueError,), ["'x'"], marker)
    assert module.classify(refused) == "clear"

    def exits(text: str) -> int:
        print(text, file=sys.stderr)
        return 2

    assert module.outcome(lambda: exits("ram train: bad --steps"), (), ["--steps"]) == "clear"
    assert module.outcome(lambda: exits("ram train: bad --steps\nTraceback ..."), (), ["--steps"]) == "unclear"
    assert module.outcome(lambda: exits("ram train: bad"), (), ["--steps"]) == "unclear"
    assert module.outcome(lambda: 0, (), []) == "silent"
    assert module.outcome(lambda: module.Verdict("silent"), (), []) == "silent"
    assert module.outcome(lambda: time.sleep(5), (), [], seconds=0.2) == "hang"


def test_reliability_prints_the_five_outcomes_of_an_area():
    result = run_script("benchmarks/reliability.py", "--area", "seeding")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "| area | cases | clear error | unclear error | silent | hang | code run |" in lines
    row = next(line for line in lines if line.startswith("| seeding |"))
    counts = [int(v) for v in row.strip("|").split("|")[1:]]
    assert len(counts) == 6 and counts[0] == sum(counts[1:]) > 0
    assert run_script("benchmarks/reliability.py", "--area", "no-such-area").returncode == 2


def test_ship_pretrained_puts_a_model_of_another_track_beside_the_envs_model(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("ship_pretrained", REPO / "benchmarks" / "ship_pretrained.py")
    ship = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ship)
    from agents.ram import RAM

    monkeypatch.setattr(ship, "PRETRAINED", tmp_path)
    small = {"num_envs": 4, "hidden_size": 16, "glimpse_hidden": 8, "glimpse_out": 16}
    privileged = RAM("RAM-Catch-v0", seed=0, state_loss_weight=1.0, **small)
    rl = RAM("RAM-Catch-v0", seed=0, glimpse_prediction_weight=1.0, **small)
    assert ship.destination(rl) == tmp_path / "RAM-Catch-v0.pt"  # nothing shipped yet: the env's model
    privileged.save(tmp_path / "RAM-Catch-v0.pt")
    assert ship.destination(rl) == tmp_path / "RAM-Catch-v0.rl.pt"
    assert ship.destination(privileged) == tmp_path / "RAM-Catch-v0.pt"  # replaces the model of its track


def write_curve(out: Path, env: str, label: str, errors: list[float]) -> Path:
    """A finished time-to-accuracy run's files, as the script writes them."""
    import json

    out.mkdir(parents=True)
    rows = "".join(f"{i + 1},{(i + 1) * 1000},{error}\n" for i, error in enumerate(errors))
    (out / "curve.csv").write_text("minutes,env_steps,test_error\n" + rows)
    (out / "curve.json").write_text(json.dumps({"env": env, "label": label, "seed": 0}))
    return out


def test_time_to_accuracy_compares_runs_in_one_picture(tmp_path):
    old = write_curve(tmp_path / "old", "RAM-ClutteredMNIST-v0", "ram_cluttered_lstm", [0.2, 0.1, 0.06])
    new = write_curve(tmp_path / "new", "RAM-ClutteredMNIST-v0", "ram_cluttered_conv", [0.1, 0.05, 0.035])
    result = run_script(
        "benchmarks/time_to_accuracy.py", "--compare", str(old), str(new), "--plot", str(tmp_path / "c.png")
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "c.png").stat().st_size > 0
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ram_cluttered")]
    assert rows[0].split("|")[5].strip() == "6.00%" and rows[1].split("|")[5].strip() == "3.50%"  # final errors


def test_time_to_accuracy_compare_refuses_unfinished_or_mixed_runs(tmp_path):
    old = write_curve(tmp_path / "old", "RAM-ClutteredMNIST-v0", "a", [0.1])
    other = write_curve(tmp_path / "other", "RAM-MNIST-v0", "b", [0.1])
    plot = str(tmp_path / "c.png")
    mixed = run_script("benchmarks/time_to_accuracy.py", "--compare", str(old), str(other), "--plot", plot)
    assert mixed.returncode == 2 and "runs on one env" in mixed.stderr and "Traceback" not in mixed.stderr
    empty = run_script("benchmarks/time_to_accuracy.py", "--compare", str(tmp_path), "--plot", plot)
    assert empty.returncode == 2 and "is not a finished time-to-accuracy run" in empty.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "curve.json").write_text('{"env": "RAM-MNIST-v0"}')
    (tmp_path / "bad" / "curve.csv").write_text("minutes,env_steps,test_error\n1,1000,0.1\n")
    bad = run_script("benchmarks/time_to_accuracy.py", "--compare", str(tmp_path / "bad"), "--plot", plot)
    assert bad.returncode == 2 and "lacks env, label or seed" in bad.stderr and "Traceback" not in bad.stderr
    (tmp_path / "bad" / "curve.csv").write_text("minutes,env_steps,test_error\n1,1000,lots\n")
    garbled = run_script("benchmarks/time_to_accuracy.py", "--compare", str(tmp_path / "bad"), "--plot", plot)
    assert garbled.returncode == 2 and "unreadable curve.json or curve.csv" in garbled.stderr
    no_plot = run_script("benchmarks/time_to_accuracy.py", "--compare", str(old))
    assert no_plot.returncode == 2 and "--compare needs --plot" in no_plot.stderr
    assert not (tmp_path / "c.png").exists()
