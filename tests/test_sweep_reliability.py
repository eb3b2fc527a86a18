"""`ram bench` when things go wrong: its process killed (the workers checkpoint once and the
sweep resumes), two sweeps on one output directory (the second is refused), Ctrl-C on a Ray
driver (a clean stop, as with local workers)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from agents.bench import load_sweep, run_sweep

SWEEP = """
name: reliability
algos: [ram]
envs: [RAM-MNIST-v0]
seeds: [0, 1]
steps: 1536
eval_episodes: 50
hparams: {ram: {num_envs: 32}}
"""

# The sweep's process, SIGKILLed by its workers once both are at their 3rd update (so at a
# known point).  A process with threads that dies sends the parent-death signal once per
# thread its children are handed to on the way, so the workers get SIGTERM more than once;
# here each worker gets one more as soon as it is orphaned, and another during each save it
# makes after that (the final checkpoint), and logs every save it completes.
DRIVER = """
import os, signal, sys, time
from pathlib import Path

from agents.bench import load_sweep, run_sweep
from agents.callbacks import CurveLogger
from agents.ram.agent import RAM

DRIVER = os.getpid()
SAVES = Path(sys.argv[3])
log_update, real_save = CurveLogger.__call__, RAM.save
state = {"updates": 0, "signalled": False}


def orphaned():
    return os.getppid() != DRIVER


def kill_the_sweep(self, metrics):
    state["updates"] += 1
    if state["updates"] == 3:  # both workers get here, then the sweep's process is killed
        with open(SAVES.with_suffix(".pids"), "a") as f:
            f.write(f"{os.getpid()}\\n")
        deadline = time.monotonic() + 60
        while len(SAVES.with_suffix(".pids").read_text().split()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        if not orphaned():
            os.kill(DRIVER, signal.SIGKILL)
        while not orphaned() and time.monotonic() < deadline:
            time.sleep(0.01)
    if orphaned() and not state["signalled"]:
        state["signalled"] = True
        time.sleep(0.05)  # the parent-death signal is handled first
        os.kill(os.getpid(), signal.SIGTERM)  # ... and sent again, by another of the dying process's threads
    return log_update(self, metrics)


def save(self, path, *args, **kwargs):
    if orphaned():
        os.kill(os.getpid(), signal.SIGTERM)  # a signal while the final checkpoint is written
    saved = real_save(self, path, *args, **kwargs)
    with open(SAVES, "a") as f:
        f.write(f"{os.getpid()} {Path(path).parent.name} {Path(path).name} {self.num_timesteps}\\n")
    return saved


CurveLogger.__call__, RAM.save = kill_the_sweep, save
run_sweep(load_sweep(sys.argv[1]), sys.argv[2], jobs=2, threads=1)
"""


def _write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "zombie" not in f.read()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_workers_of_a_killed_sweep_checkpoint_once_and_the_sweep_resumes_from_there(tmp_path):
    sweep, out, saves = _write(tmp_path, SWEEP), tmp_path / "out", tmp_path / "saves.log"
    script = _write(tmp_path, DRIVER, "driver.py")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "PYTHONUNBUFFERED": "1"}
    driver = subprocess.run(
        [sys.executable, str(script), str(sweep), str(out), str(saves)], env=env, capture_output=True, text=True
    )
    assert driver.returncode == -signal.SIGKILL, driver.stdout + driver.stderr
    workers = [int(p) for p in saves.with_suffix(".pids").read_text().split()]
    assert len(workers) == 2
    deadline = time.monotonic() + 60
    while any(_alive(w) for w in workers):
        assert time.monotonic() < deadline, "an orphaned worker did not end"
        time.sleep(0.1)
    saved = [line.split() for line in (saves.read_text() if saves.exists() else "").splitlines()]
    stopped = {}
    for run_dir in sorted((out / "runs").iterdir()):
        assert (run_dir / "result.json").exists(), f"{run_dir.name}: the worker died without its result"
        result = json.loads((run_dir / "result.json").read_text())
        assert result["status"] == "interrupted", result
        steps = result["env_steps"]
        logged = [int(r["env_steps"]) for r in csv.DictReader(open(run_dir / "progress.csv"))]
        assert steps == 3 * 32 * 6 and logged[-1] == steps  # stopped at the update the sweep died in
        checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=False)
        assert checkpoint["progress"]["num_timesteps"] == steps  # the final checkpoint, not an older one
        finals = [s for s in saved if s[1:] == [run_dir.name, "checkpoint.pt", str(steps)]]
        assert len(finals) == 1, saved  # written exactly once
        assert not list(run_dir.glob("*.tmp"))
        stopped[result["run"]] = steps
    assert len(stopped) == 2
    resumed = run_sweep(load_sweep(sweep), out, log=lambda *_: None, threads=1)
    assert [r["status"] for r in resumed] == ["ok", "ok"]
    assert {r["run"]: r["resumed_from"] for r in resumed} == stopped


def test_a_second_sweep_on_the_same_directory_is_refused_without_touching_it(tmp_path, cli_error):
    sweep, out = _write(tmp_path, SWEEP.replace("seeds: [0, 1]", "seeds: [0]").replace("1536", "384")), tmp_path / "o"
    assert [r["status"] for r in run_sweep(load_sweep(sweep), out, log=lambda *_: None)] == ["ok"]
    table = out / "results.csv"
    before = (table.read_bytes(), table.stat().st_mtime_ns)
    refused = []

    def while_the_first_runs(line: str) -> None:  # the first sweep holds the directory now
        if not refused:
            refused.append(cli_error(["bench", str(sweep), "--out", str(out)]))
            assert (table.read_bytes(), table.stat().st_mtime_ns) == before

    run_sweep(load_sweep(sweep), out, log=while_the_first_runs)
    assert str(out) in refused[0] and f"pid {os.getpid()}" in refused[0], refused


class _FakeRay:
    """Ray, as `ram bench --executor ray` uses it, in this process: Ctrl-C comes while the
    driver waits, with the first run training on a worker and the second still queued.  Ray's
    ``cancel`` (not forced) interrupts the main thread of the worker running the task, as
    ``_thread.interrupt_main()`` (SIGINT's handler, or KeyboardInterrupt): here the running
    run gets that at its 2nd update."""

    class TaskCancelledError(Exception):
        pass

    def __init__(self, cancelled_get_raises: bool) -> None:
        self.exceptions = self
        self.refs: list[tuple] = []
        self.cancelled: list[tuple[int, bool]] = []
        self.results: dict[int, dict] = {}
        self.cancelled_get_raises = cancelled_get_raises
        self.waits = 0

    def is_initialized(self) -> bool:
        return True

    def remote(self, num_cpus: int):
        def wrap(fn):
            return type("Task", (), {"remote": staticmethod(lambda *args: self._submit(fn, args))})

        return wrap

    def _submit(self, fn, args) -> int:
        self.refs.append((fn, args))
        return len(self.refs) - 1

    def wait(self, refs, num_returns: int = 1):
        self.waits += 1
        if self.waits == 1:
            raise KeyboardInterrupt  # Ctrl-C
        raise AssertionError("the driver went on waiting after Ctrl-C")

    def cancel(self, ref: int, force: bool = False) -> None:
        self.cancelled.append((ref, force))
        if ref == 0 and not force:  # the running run: interrupted mid-training
            from agents.callbacks import CurveLogger

            log_update, updates = CurveLogger.__call__, []

            def interrupted(logger, metrics):
                updates.append(metrics)
                if len(updates) == 2:
                    import _thread

                    _thread.interrupt_main()
                return log_update(logger, metrics)

            CurveLogger.__call__ = interrupted
            try:
                fn, args = self.refs[ref]
                self.results[ref] = fn(*args)
            finally:
                CurveLogger.__call__ = log_update

    def get(self, ref: int) -> dict:
        if ref in self.results and not self.cancelled_get_raises:
            return self.results[ref]
        raise self.TaskCancelledError(f"task {ref} was cancelled")


@pytest.mark.parametrize("cancelled_get_raises", [True, False])
def test_ctrl_c_on_a_ray_driver_checkpoints_the_running_runs_and_stops_cleanly(
    tmp_path, monkeypatch, cancelled_get_raises
):
    ray = _FakeRay(cancelled_get_raises)
    monkeypatch.setitem(sys.modules, "ray", ray)
    sweep, out, logged = _write(tmp_path, SWEEP), tmp_path / "out", []
    try:
        results = run_sweep(load_sweep(sweep), out, executor="ray", log=logged.append)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C on the Ray driver escaped run_sweep")
    assert sorted(ray.cancelled) == [(0, False), (1, False)]  # not forced: the running run checkpoints
    assert [r["status"] for r in results] == ["interrupted"]
    run_dir = out / "runs" / results[0]["run"]
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=False)
    assert checkpoint["progress"]["num_timesteps"] == results[0]["env_steps"] == 2 * 32 * 6
    queued = [d for d in (out / "runs").iterdir() if d != run_dir]
    assert not any((d / "result.json").exists() for d in queued)  # the queued run is not a failure
    assert any(line.startswith("interrupted:") for line in logged), logged
    assert any("1 run(s) not started" in line for line in logged), logged
    with open(out / "results.csv", newline="") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["interrupted"]


def test_ctrl_c_on_a_ray_driver_is_one_line_from_the_command(tmp_path, monkeypatch, capsys):
    from agents import cli

    monkeypatch.setitem(sys.modules, "ray", _FakeRay(cancelled_get_raises=True))
    sweep = _write(tmp_path, SWEEP)
    try:
        code = cli.main(["bench", str(sweep), "--out", str(tmp_path / "out"), "--executor", "ray"])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C on the Ray driver escaped `ram bench`")
    captured = capsys.readouterr()
    assert code == 130 and "Traceback" not in captured.err + captured.out
    assert "stopped part-way" in captured.out
