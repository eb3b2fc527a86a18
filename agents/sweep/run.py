"""One run of a sweep: train, evaluate, and write what it did to its run directory.

A run trains in ``OUT/runs/<algo>-<env>-s<seed>-<hash>/`` as a ``ram train`` run directory
would (``config.json``, ``progress.csv``, ``checkpoint.pt`` every :data:`CHECKPOINT_EVERY`
updates, ``model.pt``), then writes ``curve.csv`` and ``result.json`` (with its
:func:`provenance`).  :func:`execute` runs in whichever process an executor
(:mod:`agents.sweep.executors`) gives it.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from agents.sweep.spec import RunSpec, resolved

if TYPE_CHECKING:
    from agents.base import Callback
    from agents.training import RunOutcome

#: updates (RAM batches, SB3 rollouts) between a sweep run's checkpoints
CHECKPOINT_EVERY = 100


def execute(
    spec: RunSpec, run_dir: str, threads: int, import_path: list[str] | None = None, *, worker: bool = False
) -> dict[str, Any]:
    """Train and evaluate one run (in a worker process); never raises: failures are results.

    The run trains in ``run_dir`` as a ``ram train`` run (:mod:`agents.training`): it writes
    ``checkpoint.pt`` every :data:`CHECKPOINT_EVERY` updates and when it is stopped (SIGTERM,
    Ctrl-C: then ``status`` is ``"interrupted"``), and a later call continues from there.
    ``import_path``: directories to import plug-in agents from (a Ray worker gets the driver's).
    ``worker``: this is a local sweep's worker process (:mod:`agents.sweep.executors`): SIGTERM
    and SIGINT stop the run, never the process (:class:`_DeferredSignals`), and once
    ``result.json`` is written a worker whose sweep process has died exits.
    """
    for entry in import_path or []:
        if entry not in sys.path:
            sys.path.append(entry)
    import torch

    from agents.registry import evaluate_agent

    torch.set_num_threads(max(1, threads))
    run_dir_path = Path(run_dir)
    run_dir_path.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"run": spec.name, **asdict(spec), "status": "failed", "provenance": provenance()}
    started = time.perf_counter()
    with _DeferredSignals(enabled=worker) as deferred:
        try:
            outcome, resumed_from = _train(spec, run_dir_path, deferred if worker else None)
            if resumed_from is not None:
                result["resumed_from"] = resumed_from
            agent = outcome.agent
            result["track"] = agent.track
            rows = _progress_rows(run_dir_path)
            _write_curve(run_dir_path, rows)
            if outcome.stopped_by in ("signal", "callback"):  # a signal, or (a worker) its sweep process died
                result.update(status="interrupted", env_steps=int(agent.num_timesteps))
            else:  # the budget, or the run's wall-clock cap (minutes), was reached
                evaluation = evaluate_agent(agent, n_episodes=spec.eval_episodes)
                train_seconds = float(rows[-1]["time"]) if rows else 0.0  # resumed sessions included
                result.update(
                    status="ok",
                    score=evaluation.mean_reward,
                    error_rate=evaluation.error,
                    env_steps=int(agent.num_timesteps),
                    train_seconds=round(train_seconds, 2),
                    steps_per_second=round(agent.num_timesteps / max(train_seconds, 1e-9), 1),
                    eval_episodes=evaluation.episodes,
                )
        except Exception as err:  # a failed run is a result, not the end of the sweep
            result.update(error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
        result["wall_seconds"] = round(time.perf_counter() - started, 2)
        tmp = run_dir_path / "result.json.tmp"
        tmp.write_text(json.dumps(result, indent=2, default=str))
        os.replace(tmp, run_dir_path / "result.json")
    if worker and _orphaned():
        os._exit(0)  # the sweep that started this worker is gone (it was killed): nobody waits for more
    return result


def _train(spec: RunSpec, run_dir: Path, callback: Callback | None) -> tuple[RunOutcome, int | None]:
    """Train the run in ``run_dir``, continuing its checkpoint if it has one: the outcome, and the
    env steps it resumed from (``None``: a new run).  ``callback`` can stop it (:func:`agents.training.train`)."""
    from agents.registry import make_agent
    from agents.training import CHECKPOINT, resume, train

    options: dict[str, Any] = {
        "minutes": spec.minutes,
        "checkpoint_every": CHECKPOINT_EVERY,
        "tensorboard": False,
        "callback": callback,
    }
    if (run_dir / CHECKPOINT).exists():  # an interrupted run: continue it
        outcome = resume(run_dir, spec.steps, env_id=spec.env_id, algo=spec.algo, **options)
        return outcome, outcome.agent.num_timesteps - outcome.steps_this_session
    agent = make_agent(spec.algo, spec.env_id, spec.seed, spec.hparams, spec.env_kwargs)
    settings = resolved(spec.algo, spec.env_id, spec.hparams)
    return train(agent, run_dir, spec.steps, settings=settings, seed=spec.seed, **options), None


class _DeferredSignals:
    """In a sweep's worker process, for the whole of a run: SIGTERM and SIGINT stop the run at
    its next update boundary, with its final checkpoint, and never kill the process.

    Training's own :class:`~agents.callbacks.StopOnSignal` nests inside and gives these handlers
    back when training ends, and on a second signal, so a signal that comes while the run is
    set up, or while its final checkpoint is written, is only recorded: the save completes.
    That matters because a sweep process that dies (even by SIGKILL) sends each worker the
    parent-death signal (SIGTERM, :func:`agents.sweep.executors._die_with_parent`) once for
    every one of its threads the worker is handed to while it dies, i.e. several times.

    As a training callback it stops the run when a signal was recorded before training took
    over, or when the worker is orphaned (where there is no parent-death signal).
    ``enabled=False``: it does nothing (a run in the sweep's own process keeps the usual
    behaviour: a second Ctrl-C while stopping interrupts at once).
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.received: int | None = None
        self._old: dict[int, Any] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    def __enter__(self) -> _DeferredSignals:
        if self.enabled and threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._old[s] = signal.signal(s, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)
        self._old.clear()

    def __call__(self, metrics: dict[str, float]) -> bool:
        return self.received is None and not _orphaned()


def _orphaned() -> bool:
    """In a local sweep's worker process: has the sweep process that started it died?

    (The other half of a worker's end, the parent-death signal, is
    :func:`agents.sweep.executors._die_with_parent`.)"""
    import multiprocessing

    parent = multiprocessing.parent_process()
    return parent is not None and os.getppid() != parent.pid


def _progress_rows(run_dir: Path) -> list[dict[str, str]]:
    """The rows of the run's ``progress.csv`` ([] before the first update)."""
    path = run_dir / "progress.csv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _write_curve(run_dir: Path, rows: list[dict[str, str]]) -> None:
    """``curve.csv`` (env steps, training score, seconds) from the rows of the run's ``progress.csv``."""
    columns = ["env_steps", "score", "time"]
    tmp = run_dir / "curve.csv.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    os.replace(tmp, run_dir / "curve.csv")


def provenance() -> dict[str, Any]:
    """Where a result comes from: package versions, the git commit (when there is one) and the machine."""
    import platform
    import subprocess
    from importlib import metadata

    versions = {}
    for package in ("ram-gym", "torch", "gymnasium", "numpy", "stable-baselines3", "sb3-contrib", "ray"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    commit = None
    try:
        here = Path(__file__).resolve().parent
        commit = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        commit += "+changes" if dirty else ""
    except (OSError, subprocess.SubprocessError):
        pass
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "versions": {"python": platform.python_version(), **versions},
        "git_commit": commit,
        "machine": {"host": platform.node(), "platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count()},
    }
