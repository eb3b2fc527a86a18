"""A managed, resumable training run in a directory - what ``ram train`` does, for Python users.

::

    from agents.registry import make_agent
    from agents.training import resume, train

    agent = make_agent("ram", "RAM-MNIST-v0", seed=0)
    outcome = train(agent, "runs/mnist", total_timesteps=3_000_000, minutes=10)
    if not outcome.finished:                      # stopped by the time limit or a signal
        outcome = resume("runs/mnist", minutes=10)  # continues exactly where it stopped

The run directory holds ``config.json`` (what was asked), ``progress.csv`` (one row per
update; ``tensorboard/`` too), ``checkpoint.pt`` (the latest state, written atomically
every ``checkpoint_every`` updates and when the run stops) and, once the budget is
reached, ``model.pt``.  A run stops at an update boundary on its time limit, on SIGTERM
and on Ctrl-C (SIGINT), always with a final checkpoint, so ``resume`` ends bit-identical
to an uninterrupted run.  One process at a time may train in a directory (a lock file);
rows that were logged after the checkpoint a run resumes from are dropped, since the
resumed run logs them again.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.base import Agent, Budgeted, Callback, Recorded, WeightAveraged
from agents.callbacks import (
    CallbackList,
    Checkpoint,
    CurveLogger,
    ProgressBar,
    StopOnSignal,
    TimeBudget,
    TimeLimit,
    ValidationCurve,
)
from agents.checkpoint import CheckpointError
from agents.locks import directory_lock
from agents.logger import RunLogger

__all__ = [
    "AVERAGED",
    "CHECKPOINT",
    "FINAL",
    "RunOutcome",
    "RunDirectoryError",
    "train",
    "resume",
    "run_history",
    "lineage",
]

CHECKPOINT = "checkpoint.pt"  #: the latest state of a run (updated atomically)
FINAL = "model.pt"  #: the finished model
AVERAGED = "model_averaged.pt"  #: the finished model's moving average of its weights (RAM ``weight_average``)
_LOCK = ".lock"


class RunDirectoryError(RuntimeError):
    """A run directory that cannot be used as asked (busy, already holding a run, no checkpoint)."""


@dataclass
class RunOutcome:
    """How a call to :func:`train` or :func:`resume` ended."""

    agent: Agent
    finished: bool  #: the budget was reached (``model.pt`` written)
    stopped_by: str | None  #: ``"time limit"``, ``"signal"``, ``"callback"`` or ``None`` (finished)
    total_timesteps: int  #: the run's budget
    steps_this_session: int  #: env steps taken by this call
    seconds_this_session: float  #: wall-clock time of this call's training
    checkpoint: Path
    model: Path | None  #: ``model.pt`` when finished

    def summary(self) -> str:
        a = self.agent
        session = f"{self.steps_this_session:,} steps in {self.seconds_this_session:.0f} s by this command"
        if self.finished:
            return f"trained {a.algo} to {a.num_timesteps:,} steps ({session}); saved {self.model}"
        return (
            f"stopped by {self.stopped_by}: saved {self.checkpoint} at {a.num_timesteps:,} / "
            f"{self.total_timesteps:,} steps ({session}); continue with --resume"
        )


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` for as long as this process trains there."""

    def busy(holder: str) -> RunDirectoryError:
        return RunDirectoryError(f"{out} is in use: {holder} is training there (one run per directory)")

    with directory_lock(out, _LOCK, busy):
        for orphan in out.glob(f"{CHECKPOINT}.*.tmp"):  # left by a process killed mid-save
            orphan.unlink(missing_ok=True)
        yield


@dataclass(frozen=True)
class RunOptions:
    """How a run is managed (the keywords of :func:`train` and :func:`resume`)."""

    minutes: float | None = None  #: stop (checkpointed) after this much wall-clock
    checkpoint_every: int = 100  #: updates between checkpoints
    tensorboard: bool = True  #: TensorBoard events beside progress.csv
    progress: bool = False  #: a progress bar
    callback: Callback | None = None  #: one more callback, after the run's own
    time_budget: float | None = None  #: minutes the whole run may take (RAM; its schedule is fitted)
    validate_every: int | None = None  #: env steps between validation scores (``validation.csv``)


def _run(agent: Agent, out: Path, total: int, options: RunOptions, time_offset: float = 0.0) -> RunOutcome:
    minutes, time_budget = options.minutes, options.time_budget
    checkpoint = out / CHECKPOINT
    budget = TimeBudget(agent, time_budget, total) if time_budget is not None else None
    saver = Checkpoint(agent, checkpoint, every=options.checkpoint_every)  # checks the interval before training
    limit = TimeLimit(minutes) if minutes is not None else None
    logger = CurveLogger(out, tensorboard=options.tensorboard, time_offset=time_offset)
    bar = ProgressBar(agent, total, options.progress)
    validation = ValidationCurve(agent, out, options.validate_every) if options.validate_every else None
    steps_before = agent.num_timesteps
    started = time.perf_counter()
    try:
        with StopOnSignal() as stop:
            # log before checkpointing: a checkpoint never runs ahead of progress.csv
            callbacks = CallbackList([budget, logger, validation, bar, saver, limit, stop, options.callback])
            agent.learn(total, callback=callbacks, reset_num_timesteps=False)
        if budget is not None and stop.received is None:  # the time budget decided how far to go
            total = min(total, agent.num_timesteps)
            bar.finish(total)
    finally:
        logger.close()
        bar.close()
        if validation is not None:
            validation.close()
    agent.save(checkpoint)
    finished = agent.num_timesteps >= total
    model = None
    if finished:
        model = out / FINAL
        agent.save(model)
        if isinstance(agent, WeightAveraged) and agent.averaged_weights is not None:
            agent.save(out / AVERAGED, averaged=True)
    stopped_by = None
    if not finished and not callbacks.stopped and stop.received is None:
        raise RunDirectoryError(
            f"{agent.algo}'s learn() returned after {agent.num_timesteps:,} of {total:,} env steps without being "
            f"asked to stop (no callback returned False): the agent does not train to its budget. Its checkpoint "
            f"is saved in {checkpoint}"
        )
    if not finished:
        reached = limit is not None and limit.reached
        stopped_by = "signal" if stop.received is not None else "time limit" if reached else "callback"
    return RunOutcome(
        agent,
        finished,
        stopped_by,
        total,
        agent.num_timesteps - steps_before,
        time.perf_counter() - started,
        checkpoint,
        model,
    )


def train(
    agent: Agent,
    out: str | os.PathLike,
    total_timesteps: int,
    *,
    minutes: float | None = None,
    checkpoint_every: int = 100,
    tensorboard: bool = True,
    progress: bool = False,
    settings: dict[str, Any] | None = None,
    seed: int | None = None,
    callback: Callback | None = None,
    time_budget: float | None = None,
    init_from: dict[str, Any] | None = None,
    validate_every: int | None = None,
) -> RunOutcome:
    """Train a new ``agent`` for ``total_timesteps`` in the run directory ``out``.

    Args:
        agent: a freshly made agent (see :func:`agents.registry.make_agent`).
        out: the run directory; it must not already hold a run (use :func:`resume`).
        total_timesteps: the budget in env steps (images for fc/cnn).
        minutes: also stop after this much wall-clock time (checkpointed; resume continues).
        checkpoint_every: updates between checkpoints.
        tensorboard, progress: TensorBoard events and a progress bar.
        settings: the resolved hyper-parameters, recorded in ``config.json``.
        seed: recorded in ``config.json``.
        callback: one more callback, after the run's own.
        time_budget: minutes the whole run may take (RAM): it finishes then, its schedule fitted
            to the steps this machine manages (:class:`~agents.callbacks.TimeBudget`).
        init_from: where ``agent``'s starting weights came from (:func:`lineage`), recorded in
            ``config.json`` so that :func:`run_history` counts that training too.
        validate_every: score the validation split every this many env steps into
            ``validation.csv`` (classification; see :class:`~agents.callbacks.ValidationCurve`).
    """
    out = Path(out)
    _check_budget(total_timesteps)
    with _locked(out):
        if (out / CHECKPOINT).exists() or (out / FINAL).exists():
            raise RunDirectoryError(f"{out} already holds a run; resume it or choose another directory")
        record = {
            "env_id": agent.env_id,
            "algo": agent.algo,
            "seed": seed,
            "steps": int(total_timesteps),
            "minutes": minutes,
            "config": json.loads(json.dumps(settings or {}, default=str)),
            "argv": sys.argv,
        }
        if init_from is not None:
            record["init_from"] = init_from
        (out / "config.json").write_text(json.dumps(record, indent=2))
        options = RunOptions(minutes, checkpoint_every, tensorboard, progress, callback, time_budget, validate_every)
        return _run(agent, out, int(total_timesteps), options)


def resume(
    out: str | os.PathLike,
    total_timesteps: int | None = None,
    *,
    env_id: str | None = None,
    algo: str | None = None,
    minutes: float | None = None,
    checkpoint_every: int = 100,
    tensorboard: bool = True,
    progress: bool = False,
    callback: Callback | None = None,
    time_budget: float | None = None,
    validate_every: int | None = None,
) -> RunOutcome:
    """Continue the run in ``out`` from its checkpoint, to ``total_timesteps`` (default: the
    budget it was started with).  ``env_id`` requires the checkpoint to be for that env;
    ``algo`` loads it with that algorithm (needed for a plug-in: a file never names the
    module ram-gym imports).  ``time_budget``: minutes this continuation may take (RAM), as
    in :func:`train` - the schedule is fitted to end decayed then, at most at ``total_timesteps``."""
    from agents.registry import load_agent

    out = Path(out)
    with _locked(out):
        checkpoint = out / CHECKPOINT
        if not checkpoint.exists():
            raise RunDirectoryError(f"no {CHECKPOINT} in {out}: nothing to resume")
        agent = load_agent(checkpoint, env_id=env_id, algo=algo)
        if time_budget is not None and not isinstance(agent, Budgeted):
            raise ValueError(f"a time budget fits a RAM's schedule to a deadline; {agent.algo} has none (use minutes)")
        try:
            saved = json.loads((out / "config.json").read_text()) if (out / "config.json").exists() else {}
        except json.JSONDecodeError as err:
            raise CheckpointError(f"{out / 'config.json'} is not valid JSON: {err}") from None
        total = int(total_timesteps if total_timesteps is not None else saved.get("steps", agent.num_timesteps))
        _check_budget(total)
        if total_timesteps is not None and total != saved.get("steps"):
            # a new budget: the run ends there and a schedule that follows the budget (RAM's
            # learning rate) is re-planned from here; later resumes keep the new budget
            if isinstance(agent, Budgeted):
                agent.set_budget(total)
            if saved:
                saved["steps"] = total
                (out / "config.json").write_text(json.dumps(saved, indent=2))
        progress_csv = out / "progress.csv"
        RunLogger.truncate(progress_csv, agent.num_timesteps)
        RunLogger.truncate(out / ValidationCurve.FILENAME, agent.num_timesteps)
        options = RunOptions(minutes, checkpoint_every, tensorboard, progress, callback, time_budget, validate_every)
        return _run(agent, out, total, options, _last_time(progress_csv))


def _check_budget(total: Any) -> None:
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise ValueError(f"the training budget must be a positive number of env steps, got {total!r}")


def _last_time(progress_csv: Path) -> float:
    """The ``time`` of the last row of ``progress.csv`` (0 when there is none)."""
    import csv

    if not progress_csv.exists():
        return 0.0
    with open(progress_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    try:
        return float(rows[-1]["time"]) if rows else 0.0
    except (KeyError, ValueError):
        return 0.0


def run_history(run: str | os.PathLike) -> tuple[str, int, int]:
    """``(commands, seconds, env steps)`` of all the training behind the run in ``run``.

    Reads ``config.json`` and ``progress.csv``; a ``--resume`` restarts ``progress.csv``'s clock,
    so each session's time is added.  A run started ``--init-from`` another model adds that
    model's training (its ``init_from`` record), and its command comes first, joined by ``"; then "``.

    Raises:
        RunDirectoryError: ``progress.csv`` or ``config.json`` is missing or has no rows.
    """
    import csv
    import shlex

    run = Path(run)
    try:
        config = json.loads((run / "config.json").read_text())
        with open(run / "progress.csv", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, json.JSONDecodeError) as err:
        raise RunDirectoryError(f"{run}: no training history: {err}") from None
    if not rows:
        raise RunDirectoryError(f"{run}/progress.csv has no rows")
    seconds, previous, steps = 0.0, 0.0, 0
    for row in rows:
        now = float(row["time"])
        if now < previous:  # a --resume restarts the clock: add the earlier session's time
            seconds += previous
        previous, steps = now, int(float(row["env_steps"]))
    command = shlex.join(["ram", *config.get("argv", ["ram"])[1:]])
    total = seconds + previous
    parent = config.get("init_from")
    if parent:
        if parent.get("train_seconds") is None:
            raise RunDirectoryError(f"{run} started from {parent.get('checkpoint')}, whose training time is unknown")
        command = f"{parent.get('command') or parent.get('checkpoint')}; then {command}"
        total += float(parent["train_seconds"])
        steps += int(parent.get("env_steps") or 0)
    return command, round(total), steps


def lineage(path: str | os.PathLike, agent: Agent) -> dict[str, Any]:
    """The ``init_from`` record of a run whose weights start from ``agent``, loaded from ``path``:
    the file, its SHA-256, and the training behind it - from the checkpoint's ``extra`` (a shipped
    model records it) or from the run directory beside it (``RUN/model.pt``), else unknown (None)."""
    import hashlib

    path = Path(path)
    extra = (agent.checkpoint_extra if isinstance(agent, Recorded) else None) or {}
    record: dict[str, Any] = {
        "checkpoint": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "env_id": agent.env_id,
        "command": extra.get("command"),
        "train_seconds": extra.get("train_seconds"),
        "env_steps": extra.get("env_steps", agent.num_timesteps),
    }
    if record["train_seconds"] is None:
        try:
            record["command"], record["train_seconds"], record["env_steps"] = run_history(path.parent)
        except (RunDirectoryError, KeyError, ValueError):
            pass  # not a run directory: the training time stays unknown
    return record
