"""`ram bench`: a tiny sweep writes its CSV, table and plots, resumes, survives failures, rejects bad YAML."""

import csv
import json
import re

import pytest
from PIL import Image

from agents import cli
from agents.bench import SweepConfigError, load_sweep

TINY = """
name: tiny
algos: [ram, a2c]
envs: [RAM-MNIST-v0]
seeds: [0, 1]
steps: 2000
eval_episodes: 100
hparams: {ram: {num_envs: 32}, a2c: {n_envs: 8}}
"""


def run(tmp_path, text, *extra):
    config = tmp_path / "sweep.yaml"
    config.write_text(text)
    return cli.main(["bench", str(config), "--out", str(tmp_path / "out"), *extra])


def rows(tmp_path):
    with open(tmp_path / "out" / "results.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_tiny_sweep_writes_csv_table_and_plots(tmp_path, capsys):
    assert run(tmp_path, TINY, "--jobs", "2") == 0
    table = rows(tmp_path)
    assert len(table) == 4 and {r["status"] for r in table} == {"ok"}
    assert {(r["algo"], r["seed"]) for r in table} == {("ram", "0"), ("ram", "1"), ("a2c", "0"), ("a2c", "1")}
    md = (tmp_path / "out" / "results.md").read_text()
    assert "| RAM-MNIST-v0 | privileged | ram | 2/2 |" in md and "±" in md
    for name in ("curves.png", "scores.png"):
        assert Image.open(tmp_path / "out" / name).size[0] > 100
    assert "results.csv" in capsys.readouterr().out


def test_rerun_skips_finished_runs_and_redoes_missing_ones(tmp_path, capsys):
    assert run(tmp_path, TINY) == 0
    results = sorted((tmp_path / "out" / "runs").glob("*/result.json"))
    stamps = {p: p.stat().st_mtime_ns for p in results}
    results[0].unlink()  # as if the sweep had been killed before this run finished
    capsys.readouterr()
    assert run(tmp_path, TINY) == 0
    assert "3 already finished, 1 to run" in capsys.readouterr().out
    for path in results[1:]:
        assert path.stat().st_mtime_ns == stamps[path]  # untouched
    assert results[0].exists() and len(rows(tmp_path)) == 4


def test_more_seeds_reuse_the_matching_runs_of_a_committed_table(tmp_path, capsys):
    import shutil

    assert run(tmp_path, TINY.replace("seeds: [0, 1]", "seeds: [0]")) == 0
    committed = tmp_path / "committed"  # a committed table: results.csv alone, no run directories
    committed.mkdir()
    shutil.copy(tmp_path / "out" / "results.csv", committed / "results.csv")
    old = {r["run"]: r for r in rows(tmp_path)}
    shutil.rmtree(tmp_path / "out")
    changed = TINY.replace("a2c: {n_envs: 8}", "a2c: {n_envs: 4}")  # a2c's settings differ: its seed 0 runs again
    capsys.readouterr()
    assert run(tmp_path, changed, "--reuse", str(committed)) == 0
    out = capsys.readouterr().out
    assert f"reused 1 finished run(s) of this sweep from {committed}" in out and "1 already finished, 3 to run" in out
    table = {r["run"]: r for r in rows(tmp_path)}
    (ram0,) = [name for name in old if name.startswith("ram-")]
    assert table[ram0]["score"] == old[ram0]["score"]  # taken, not re-run
    assert json.loads((tmp_path / "out" / "runs" / ram0 / "result.json").read_text())["reused_from"] == str(committed)
    assert len(table) == 4 and not set(table) - {ram0} & set(old)


def test_reused_run_directories_bring_their_curves(tmp_path, capsys):
    assert run(tmp_path, TINY.replace("seeds: [0, 1]", "seeds: [0]")) == 0
    (tmp_path / "out").rename(tmp_path / "before")
    assert run(tmp_path, TINY, "--reuse", str(tmp_path / "before")) == 0
    assert "reused 2 finished run(s)" in capsys.readouterr().out
    for old in (tmp_path / "before" / "runs").iterdir():
        new = tmp_path / "out" / "runs" / old.name
        assert (new / "curve.csv").read_text() == (old / "curve.csv").read_text()
        assert not (new / "checkpoint.pt").exists()  # the result and its curve, not the run's files


def test_reuse_of_a_directory_without_results_is_refused(tmp_path, cli_error):
    (tmp_path / "empty").mkdir()
    (tmp_path / "sweep.yaml").write_text(TINY)
    argv = ["bench", str(tmp_path / "sweep.yaml"), "--out", str(tmp_path / "out"), "--reuse", str(tmp_path / "empty")]
    message = cli_error(argv)
    assert "holds neither runs/*/result.json nor results.csv" in message


def test_a_failing_run_is_recorded_and_the_rest_go_on(tmp_path, capsys, monkeypatch):
    from agents.baselines.sb3_agents import SB3Agent

    def broken_learn(self, *args, **kwargs):
        raise RuntimeError("not_an_argument exploded mid-training")

    monkeypatch.setattr(SB3Agent, "learn", broken_learn)
    assert run(tmp_path, TINY) == 1  # a sweep with failed runs exits non-zero
    table = rows(tmp_path)
    assert [r["status"] for r in table if r["algo"] == "a2c"] == ["failed", "failed"]
    assert [r["status"] for r in table if r["algo"] == "ram"] == ["ok", "ok"]
    assert "not_an_argument" in table[-1]["error"]
    result = json.loads(next((tmp_path / "out" / "runs").glob("a2c-*/result.json")).read_text())
    assert "Traceback" in result["traceback"]
    assert "(2 failed)" in (tmp_path / "out" / "results.md").read_text()
    assert "2 run(s) failed" in capsys.readouterr().out


def test_settings_are_checked_before_the_first_run(tmp_path, cli_error):
    broken = TINY.replace("a2c: {n_envs: 8}", "a2c: {n_envs: 8, not_an_argument: 1}")
    message = cli_error(["bench", str(_write(tmp_path, broken)), "--out", str(tmp_path / "out")])
    assert "a2c on RAM-MNIST-v0 cannot be made" in message and "not_an_argument" in message
    assert not list((tmp_path / "out" / "runs").glob("*/result.json"))  # nothing ran
    bad_env = TINY + "env_kwargs: {RAM-MNIST-v0: {n_glimpses: 0}}\n"
    assert "n_glimpses" in cli_error(["bench", str(_write(tmp_path, bad_env)), "--out", str(tmp_path / "o2")])


def _write(tmp_path, text):
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("algos: [ram\n", "not valid YAML"),
        ("- ram\n", "mapping"),
        ("algos: [ram]\nenvs: [RAM-MNIST-v0]\nseeds: [0]\n", "missing key"),
        (TINY + "budget: 3\n", "unknown key"),
        (TINY.replace("a2c]", "sac]"), "unknown algorithm"),
        (TINY.replace("envs: [RAM-MNIST-v0]", "envs: [MNIST]"), "unknown env id"),
        (TINY.replace("steps: 2000", "steps: -1"), "steps must be"),
        (TINY.replace("steps: 2000", "steps: true"), "steps must be"),
        (TINY.replace("seeds: [0, 1]", "seeds: [0, 0]"), "seeds lists .*more than once"),
        (TINY.replace("algos: [ram, a2c]", "algos: [ram, ram]"), "algos lists .*more than once"),
        (TINY + "minutes: -1\n", "minutes must be a positive number"),
        (TINY + "minutes: abc\n", "minutes must be a positive number"),
        (TINY.replace("eval_episodes: 100", "eval_episodes: 0"), "eval_episodes must be a positive integer"),
        (TINY + "steps: 5\n", "duplicate key 'steps'"),
        ("a: &x [1, 2]\nb: [*x, *x]\n", "aliases"),
        (TINY + "hparams2: 1\n", "unknown key"),
        (TINY.replace("hparams: {ram:", "hparams: {ppo: {}, ram:"), "hparams names \\['ppo'\\]"),
        (TINY.replace("{num_envs: 32}", "{RAM-Catch-v0: {num_envs: 8}}"), "name RAM-Catch-v0, which the sweep"),
        (TINY.replace("{num_envs: 32}", "{RAM-MNIST-v0: 3}"), "for RAM-MNIST-v0 must be a mapping"),
        (TINY.replace("{n_envs: 8}", "{config: ram_mnist}"), "only ram, ram-rl take one"),
        (TINY.replace("{num_envs: 32}", "{config: ram_nope}"), "neither a shipped recipe"),
    ],
)
def test_malformed_sweep_files_get_clear_errors(tmp_path, text, message, cli_error):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SweepConfigError, match=message):
        load_sweep(path)
    assert re.search(message, cli_error(["bench", str(path), "--out", str(tmp_path / "o")]))


def test_committed_sweep_config_is_valid():
    config = load_sweep("benchmarks/configs/sweep_small.yaml")
    assert config.algos == ["ram", "ppo", "recurrent-ppo", "a2c"] and len(config.seeds) == 3


def test_run_keys_follow_the_resolved_defaults(monkeypatch):
    from agents import bench
    from agents.baselines import sb3_agents

    spec = bench.RunSpec("ppo", "RAM-MNIST-v0", 0, 1000, None, 10, {}, {})
    before = spec.key
    real = sb3_agents.hyperparameters
    monkeypatch.setattr(sb3_agents, "hyperparameters", lambda *a, **k: {**real(*a, **k), "n_steps": 7})
    assert spec.key != before  # an edited hyperparams/ppo.yml re-runs the run instead of reusing it


def test_hparams_per_algorithm_and_environment_and_recipes(tmp_path):
    from agents.bench import expand, run_hparams
    from agents.ram.recipes import load_recipe

    text = TINY.replace("envs: [RAM-MNIST-v0]", "envs: [RAM-MNIST-v0, RAM-Catch-v0]").replace(
        "{num_envs: 32}", "{num_envs: 32, RAM-Catch-v0: {config: ram_catch, learning_rate: 0.01}}"
    )
    config = load_sweep(_write(tmp_path, text))
    assert run_hparams(config, "ram", "RAM-MNIST-v0") == {"num_envs": 32}
    catch = run_hparams(config, "ram", "RAM-Catch-v0")
    assert catch == {**load_recipe("ram_catch"), "num_envs": 32, "learning_rate": 0.01}
    specs = {(s.algo, s.env_id): s for s in expand(config)}
    assert specs["ram", "RAM-Catch-v0"].hparams == catch and specs["a2c", "RAM-Catch-v0"].hparams == {"n_envs": 8}


def test_overriding_algos_envs_and_seeds_runs_the_same_runs_as_the_whole_sweep(tmp_path):
    from pathlib import Path

    from agents.bench import expand

    path = "benchmarks/configs/sweep_5m.yaml"
    whole = {s.name: s for s in expand(load_sweep(path))}
    part = expand(load_sweep(path, {"algos": ["ram-rl", "a2c"], "envs": ["RAM-Catch-v0"], "seeds": [2]}))
    assert [(s.algo, s.env_id, s.seed) for s in part] == [("ram-rl", "RAM-Catch-v0", 2), ("a2c", "RAM-Catch-v0", 2)]
    for spec in part:  # same hyper-parameters, same key: the subset resumes and skips the whole sweep's runs
        assert whole[spec.name] == spec
    typo = Path(path).read_text().replace("hparams:\n", "hparams:\n  rma: {}\n", 1)
    with pytest.raises(SweepConfigError, match="hparams names \\['rma'\\]"):  # the file itself is still checked
        load_sweep(_write(tmp_path, typo), {"algos": ["ram"]})


def test_an_interrupted_run_continues_from_its_checkpoint(tmp_path, monkeypatch):
    import os
    import signal

    from agents.bench import RunSpec, execute, summarize
    from agents.callbacks import CurveLogger

    spec = RunSpec("a2c", "RAM-MNIST-v0", 0, 30_000, None, 50, {"n_envs": 8}, {})
    run_dir = tmp_path / spec.name
    log_update = CurveLogger.__call__
    updates = []

    def ctrl_c_after_ten_updates(self, metrics):  # Ctrl-C mid-run, at a known point
        updates.append(metrics["env_steps"])
        if len(updates) == 10:
            os.kill(os.getpid(), signal.SIGINT)
        return log_update(self, metrics)

    monkeypatch.setattr(CurveLogger, "__call__", ctrl_c_after_ten_updates)
    first = execute(spec, str(run_dir), 1)
    monkeypatch.setattr(CurveLogger, "__call__", log_update)
    assert first["status"] == "interrupted" and 0 < first["env_steps"] < 30_000
    assert (run_dir / "checkpoint.pt").exists()
    (tmp_path / "table").mkdir()
    summarize([first], tmp_path / "table")
    assert "0/1 (1 stopped part-way, resumable)" in (tmp_path / "table" / "results.md").read_text()
    second = execute(spec, str(run_dir), 1)
    assert second["status"] == "ok" and second["resumed_from"] == first["env_steps"]
    assert second["env_steps"] >= 30_000 and second["train_seconds"] > 0
    steps = [int(r["env_steps"]) for r in csv.DictReader(open(run_dir / "curve.csv"))]
    assert steps == sorted(set(steps)) and steps[-1] >= 30_000  # one curve across both sessions
    # a run stopped by its wall-clock cap is scored, not resumed
    capped = RunSpec("a2c", "RAM-MNIST-v0", 0, 10**8, 0.02, 50, {"n_envs": 8}, {})
    result = execute(capped, str(tmp_path / "capped"), 1)
    assert result["status"] == "ok" and result["env_steps"] < 10**8


def test_every_shipped_recipe_is_a_valid_config_and_is_in_the_index():
    """Each ``agents/ram/recipes/*.yaml`` loads, type-checks as RAMConfig fields, passes the
    config checks for its task, and is listed in the package's recipe table."""
    import agents.ram.recipes as recipes
    from agents.ram.config import RAMConfig, check_config, typed_hparams

    names = recipes.available_recipes()
    assert {"ram_translated_lstm", "ram_translated_lstm_std015", "ram_translated_lstm_std020"} <= set(names)
    for name in names:
        hparams = typed_hparams(recipes.load_recipe(name))
        env_kwargs = hparams.get("env_kwargs", {})
        assert isinstance(env_kwargs, dict), name
        action_key = "move" if name == "ram_catch" else "label"
        check_config(RAMConfig(**{**hparams, "core": hparams.get("core", "rnn")}), action_key)
        assert f"``{name}``" in (recipes.__doc__ or ""), f"{name} missing from the recipe table"
