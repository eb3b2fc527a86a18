"""agents.training and agents.callbacks: a resumable run from Python, one process per run
directory, progress rows never duplicated, bad settings refused."""

from __future__ import annotations

import csv

import pytest
import torch

from agents.callbacks import CallbackList, Checkpoint, CurveLogger, TimeLimit
from agents.logger import RunLogger
from agents.ram import RAM
from agents.training import RunDirectoryError, _locked, resume, train


def _agent():
    return RAM("RAM-MNIST-v0", seed=0, num_envs=16)


def _stop_after(updates):
    return lambda metrics: metrics["update"] < updates


def test_python_run_stops_and_resumes_bit_identically(tmp_path):
    straight = train(_agent(), tmp_path / "straight", 1920, tensorboard=False)  # 20 updates of 16 x 6
    assert straight.finished and straight.model.exists()
    first = train(_agent(), tmp_path / "run", 1920, tensorboard=False, checkpoint_every=3, callback=_stop_after(8))
    assert not first.finished and first.stopped_by == "callback" and first.agent.num_timesteps == 8 * 96
    assert "continue with --resume" in first.summary()
    second = resume(tmp_path / "run", tensorboard=False)
    assert second.finished and second.steps_this_session == 12 * 96
    a, b = torch.load(straight.model, weights_only=True), torch.load(second.model, weights_only=True)
    for key in a["model"]:
        torch.testing.assert_close(a["model"][key], b["model"][key], rtol=0, atol=0)
    rows = list(csv.DictReader(open(tmp_path / "run" / "progress.csv")))
    steps = [int(r["env_steps"]) for r in rows]
    assert steps == sorted(set(steps)) and len(steps) == 20
    times = [float(r["time"]) for r in rows]
    assert times == sorted(times)  # a resumed run's clock continues


def test_resume_with_a_new_budget_ends_there_with_the_schedule_replanned(tmp_path):
    import json

    out = tmp_path / "run"
    train(_agent(), out, 1920, tensorboard=False, callback=_stop_after(5))  # budget 20 updates
    shorter = resume(out, 960, tensorboard=False)  # now 10 updates in all
    assert shorter.finished and shorter.agent.num_timesteps == 960
    rows = list(csv.DictReader(open(out / "progress.csv")))
    assert len(rows) == 10
    final_lr = float(rows[-1]["learning_rate"])
    cfg = shorter.agent.config
    assert final_lr == pytest.approx(cfg.learning_rate_at(9 / 10), rel=1e-6)  # decayed to the new end
    assert json.loads((out / "config.json").read_text())["steps"] == 960  # later resumes keep it


def test_rows_logged_after_the_checkpoint_are_dropped_on_resume(tmp_path):
    out = tmp_path / "run"
    train(_agent(), out, 1920, tensorboard=False, callback=_stop_after(5))
    with open(out / "progress.csv", "a") as f:  # as if killed (SIGKILL) after logging beyond the checkpoint
        f.write("".join(f"{6 + i},{(6 + i) * 96}" + "," * 20 + "\n" for i in range(3)))
    assert RunLogger.truncate(out / "progress.csv", 5 * 96) == 3
    (out / "checkpoint.pt.abc.tmp").write_bytes(b"half-written")
    resume(out, tensorboard=False)
    steps = [int(r["env_steps"]) for r in csv.DictReader(open(out / "progress.csv"))]
    assert steps == [96 * (i + 1) for i in range(20)]
    assert not list(out.glob("*.tmp"))


def test_one_process_per_run_directory_and_bad_settings(tmp_path):
    out = tmp_path / "busy"
    with _locked(out):
        with pytest.raises(RunDirectoryError, match="in use: pid .* is training there"):
            train(_agent(), out, 96)
    train(_agent(), out, 96, tensorboard=False)
    with pytest.raises(RunDirectoryError, match="already holds a run"):
        train(_agent(), out, 96)
    with pytest.raises(RunDirectoryError, match="nothing to resume"):
        resume(tmp_path / "empty")
    with pytest.raises(ValueError, match="positive number of env steps"):
        train(_agent(), tmp_path / "x", -5)
    with pytest.raises(ValueError, match="checkpoint interval"):
        train(_agent(), tmp_path / "y", 96, checkpoint_every=0)
    with pytest.raises(ValueError, match="minutes must be a number > 0"):
        TimeLimit(-1)


def test_callbacks_compose_in_learn(tmp_path):
    agent = _agent()
    logger = CurveLogger(tmp_path, "curve.csv", columns=["env_steps", "score", "time"])
    saver = Checkpoint(agent, tmp_path / "c.pt", every=2)
    agent.learn(10_000, callback=CallbackList([logger, saver, _stop_after(4)]))
    logger.close()
    assert agent.num_updates == 4 and RAM.load(tmp_path / "c.pt").num_updates == 4
    header, *rows = (tmp_path / "curve.csv").read_text().splitlines()
    assert header == "env_steps,score,time" and len(rows) == 4


def test_a_time_budget_finishes_the_run_on_time_with_its_schedule_decayed(tmp_path):
    import time

    started = time.perf_counter()
    outcome = train(_agent(), tmp_path / "run", 10**9, tensorboard=False, time_budget=0.05)  # 3 seconds
    elapsed = time.perf_counter() - started
    assert outcome.finished and outcome.model.exists() and outcome.agent.num_timesteps < 10**9
    assert 2.0 < elapsed < 6.0
    rows = list(csv.DictReader(open(tmp_path / "run" / "progress.csv")))
    cfg = outcome.agent.config
    assert float(rows[-1]["learning_rate"]) < 0.2 * cfg.learning_rate  # the cosine ran (nearly) to its end


def test_a_time_budget_on_resume_fits_the_continuation(tmp_path):
    import time

    first = train(_agent(), tmp_path / "run", 10**9, tensorboard=False, callback=_stop_after(3))
    assert not first.finished
    started = time.perf_counter()
    outcome = resume(tmp_path / "run", tensorboard=False, time_budget=0.05)  # 3 seconds, not the 10**9 steps
    elapsed = time.perf_counter() - started
    assert outcome.finished and outcome.model.exists() and outcome.agent.num_timesteps < 10**9
    assert 2.0 < elapsed < 6.0
    rows = list(csv.DictReader(open(tmp_path / "run" / "progress.csv")))
    assert float(rows[-1]["learning_rate"]) < 0.2 * outcome.agent.config.learning_rate


class _Budgeted:
    def __init__(self):
        self.num_timesteps, self.budget = 0, None

    def set_budget(self, total):
        self.budget = total


def test_a_time_budget_projects_with_the_recent_speed():
    from agents.callbacks import TimeBudget

    agent = _Budgeted()
    budget = TimeBudget(agent, minutes=10, total=10**9, window=60)  # 600 s
    assert budget.reachable(0.0, 0) is None
    for t in range(1, 301):  # 100 steps/s for 300 s
        budget.reachable(float(t), 100 * t)
    for t in range(301, 421):  # then 400 steps/s for 120 s: the last 60 s decide
        reached = budget.reachable(float(t), 30_000 + 400 * (t - 300))
    assert reached == 30_000 + 400 * 120 + 400 * 180
    assert budget.reachable(600.0, 200_000) == 200_000  # at the deadline: what is done


def test_a_time_budget_needs_an_agent_that_can_change_its_budget():
    from agents.callbacks import TimeBudget

    with pytest.raises(ValueError, match="set_budget"):
        TimeBudget(object(), minutes=1, total=10)
    with pytest.raises(ValueError, match="minutes"):
        TimeBudget(_Budgeted(), minutes=0, total=10)


def test_a_learning_rate_warmup_rises_linearly_then_follows_the_schedule():
    from agents.ram.config import RAMConfig

    cfg = RAMConfig(learning_rate=1e-3, lr_schedule="constant", lr_warmup_steps=1000)
    assert cfg.learning_rate_at(0.0, 0) == pytest.approx(1e-6)
    assert cfg.learning_rate_at(0.1, 499) == pytest.approx(5e-4)
    assert cfg.learning_rate_at(0.5, 5000) == cfg.learning_rate_at(0.5) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="lr_warmup_steps"):
        RAM("RAM-MNIST-v0", lr_warmup_steps=-1)
