"""Pieces of a training run, composed as ``learn``'s callback.

Every agent's ``learn(total_timesteps, callback)`` calls ``callback(metrics)`` after each
update (``metrics["env_steps"]`` is always there) and stops when it returns ``False``.
These callables turn that hook into a managed run; ``ram train``, ``ram bench`` and
Python users compose the same ones::

    from agents.callbacks import CallbackList, Checkpoint, CurveLogger, StopOnSignal, TimeLimit
    from agents.ram import RAM

    agent = RAM("RAM-MNIST-v0", seed=0)
    with StopOnSignal() as stop:
        callback = CallbackList([CurveLogger("runs/mnist"), Checkpoint(agent, "runs/mnist/checkpoint.pt", every=100),
                                 TimeLimit(minutes=30), stop])
        agent.learn(3_000_000, callback=callback)
    agent.save("runs/mnist/checkpoint.pt")
    # later, or after a crash: continue exactly where the checkpoint stopped
    agent = RAM.load("runs/mnist/checkpoint.pt")
    agent.learn(3_000_000, callback=..., reset_num_timesteps=False)

:func:`agents.training.train` does all of this for a run directory.
"""

from __future__ import annotations

import os
import signal
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from agents.base import Agent, Budgeted, Callback
from agents.logger import RunLogger

__all__ = [
    "CallbackList",
    "Checkpoint",
    "TimeLimit",
    "TimeBudget",
    "StopOnSignal",
    "CurveLogger",
    "ProgressBar",
    "ValidationCurve",
    "score_of",
]


def score_of(metrics: dict[str, float]) -> float:
    """The update's training score: ``accuracy`` (classification) or ``reward``."""
    return float(metrics.get("accuracy", metrics.get("reward", float("nan"))))


class CallbackList:
    """Calls each callback in order; training stops when any returns ``False`` (all are still called)."""

    def __init__(self, callbacks: Iterable[Callback | None]) -> None:
        self.callbacks = [c for c in callbacks if c is not None]
        self.stopped = False  #: some callback returned ``False`` (training was asked to stop)

    def __call__(self, metrics: dict[str, float]) -> bool:
        go_on = True
        for callback in self.callbacks:
            if callback(metrics) is False:
                go_on = False
        self.stopped = self.stopped or not go_on
        return go_on


class Checkpoint:
    """Saves ``agent`` to ``path`` (atomically) every ``every`` calls, i.e. updates."""

    def __init__(self, agent: Agent, path: str | os.PathLike, every: int = 100) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"checkpoint interval must be an integer >= 1 (updates), got {every!r}")
        self.agent, self.path, self.every = agent, Path(path), every
        self.calls = 0

    def __call__(self, metrics: dict[str, float]) -> bool:
        self.calls += 1
        if self.calls % self.every == 0:
            self.agent.save(self.path)
        return True


class TimeLimit:
    """Stops training once ``minutes`` of wall-clock time have passed since it was made."""

    def __init__(self, minutes: float) -> None:
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not minutes > 0:
            raise ValueError(f"minutes must be a number > 0, got {minutes!r}")
        self.minutes = float(minutes)
        self.deadline = time.perf_counter() + 60.0 * self.minutes
        self.reached = False

    def __call__(self, metrics: dict[str, float]) -> bool:
        self.reached = time.perf_counter() >= self.deadline
        return not self.reached


class TimeBudget:
    """Fit a RAM run into ``minutes`` of wall-clock: after each update the budget becomes the
    env steps done so far plus what the *recent* speed (the last ``window`` seconds) reaches in
    the time left (never more than ``total``), so the learning-rate schedule ends decayed and
    the run *finishes* on time, on any machine, even when its speed changes on the way (another
    job on the machine starting or stopping).

    ``agent`` must be :class:`~agents.base.Budgeted` (:class:`agents.ram.RAM` is).
    """

    def __init__(self, agent: Any, minutes: float, total: int, window: float = 300.0) -> None:
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not minutes > 0:
            raise ValueError(f"the time budget must be a number of minutes > 0, got {minutes!r}")
        if not isinstance(agent, Budgeted):
            raise ValueError("a time budget fits a RAM's schedule to a deadline; this agent has no set_budget")
        self.agent, self.total, self.window = agent, int(total), float(window)
        self.seconds = 60.0 * float(minutes)
        self.started = time.perf_counter()
        self.samples: deque[tuple[float, int]] = deque([(0.0, int(agent.num_timesteps))])

    def reachable(self, elapsed: float, steps: int) -> int | None:
        """The env steps the run reaches by the deadline at the speed of the last ``window``
        seconds (``None`` before any speed is measured)."""
        while len(self.samples) > 1 and elapsed - self.samples[1][0] >= self.window:
            self.samples.popleft()  # keep one sample at least ``window`` old
        then, steps_then = self.samples[0]
        self.samples.append((elapsed, steps))
        if elapsed <= then or steps <= steps_then:
            return None
        speed = (steps - steps_then) / (elapsed - then)
        return steps + int(speed * max(0.0, self.seconds - elapsed))

    def __call__(self, metrics: dict[str, float]) -> bool:
        elapsed = time.perf_counter() - self.started
        reachable = self.reachable(elapsed, int(metrics["env_steps"]))
        if reachable is not None:
            self.agent.set_budget(min(self.total, reachable))
        return elapsed < self.seconds * 1.05  # a last safety stop, should the speed change


class StopOnSignal:
    """A context manager that turns SIGINT (Ctrl-C) and SIGTERM into a stop at the next
    update boundary, so the run can be checkpointed and resumed exactly.

    A second signal of the same kind while stopping restores the default behaviour
    (a second Ctrl-C interrupts at once).  Outside the main thread it does nothing.
    """

    def __init__(self, signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM)) -> None:
        self.signals = tuple(signals)
        self.received: int | None = None
        self._old: dict[int, Any] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:  # asked twice: give the default behaviour back
            signal.signal(signum, self._old.get(signum, signal.SIG_DFL))
        self.received = signum

    def __enter__(self) -> StopOnSignal:
        try:
            for s in self.signals:
                self._old[s] = signal.signal(s, self._handler)
        except ValueError:  # not the main thread (e.g. a worker): signals stay as they are
            self._old.clear()
        return self

    def __exit__(self, *exc: object) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)
        self._old.clear()

    def __call__(self, metrics: dict[str, float]) -> bool:
        return self.received is None


class ProgressBar:
    """A tqdm progress bar over the env steps of a run, with the latest training score
    (``learn(..., progress_bar=True)`` and ``ram train`` show it; ``enabled=False``: silent)."""

    def __init__(self, agent: Agent, total: int, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            initial=agent.num_timesteps,
            unit="step",
            unit_scale=True,
            disable=not enabled,
            dynamic_ncols=True,
            desc=f"{agent.algo} {agent.env_id}",
        )

    def finish(self, total: int) -> None:
        """The run ended at ``total`` steps (a time budget fitted it): the bar ends full, not at 86%."""
        self.bar.total = total
        self.bar.refresh()

    def __call__(self, metrics: dict[str, float]) -> bool:
        self.bar.update(int(metrics["env_steps"]) - self.bar.n)
        name = "acc" if "accuracy" in metrics else "reward"
        self.bar.set_postfix({name: f"{score_of(metrics):.3f}"}, refresh=False)
        return True

    def close(self) -> None:
        self.bar.close()


class CurveLogger:
    """Writes each update's metrics, with ``time`` (seconds of training, carried over a
    resume by ``time_offset``) and ``score``, to ``run_dir/filename`` (CSV) and TensorBoard.

    Args:
        run_dir: the run directory (created).
        filename: the CSV file (``progress.csv``).
        tensorboard: also write TensorBoard events to ``run_dir/tensorboard``.
        columns: only these columns in the CSV (default: every metric of the first update).
        time_offset: seconds already trained before this process (a resumed run).
    """

    def __init__(
        self,
        run_dir: str | os.PathLike,
        filename: str = "progress.csv",
        tensorboard: bool = False,
        columns: list[str] | None = None,
        time_offset: float = 0.0,
    ) -> None:
        self.logger = RunLogger(run_dir, tensorboard=tensorboard, filename=filename, columns=columns)
        self.started = time.perf_counter() - time_offset

    @property
    def seconds(self) -> float:
        """Training time so far, resumed runs included."""
        return time.perf_counter() - self.started

    def __call__(self, metrics: dict[str, float]) -> bool:
        self.logger.log({**metrics, "score": score_of(metrics), "time": round(self.seconds, 3)})
        return True

    def close(self) -> None:
        self.logger.close()


class ValidationCurve:
    """Scores ``agent`` on the validation split every ``every`` env steps and appends
    ``env_steps, validation_error, episodes`` to ``run_dir/validation.csv``: the curve to
    choose and compare recipes by (never the test split).  Join it with ``progress.csv`` on
    ``env_steps`` for the training time.

    The evaluation is deterministic (policy means, one sample) on the first ``episodes``
    validation images (default: all 5,000) and uses a private copy of torch's generator, so
    training, and a resumed run, are unchanged by it.  A resumed run continues the file (rows
    after its checkpoint are dropped and logged again).
    """

    FILENAME = "validation.csv"

    def __init__(self, agent: Agent, run_dir: str | os.PathLike, every: int, episodes: int | None = None) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"the validation interval must be an integer >= 1 (env steps), got {every!r}")
        self.agent, self.every, self.episodes = agent, every, episodes
        columns = ["env_steps", "validation_error", "episodes"]
        self.logger = RunLogger(run_dir, tensorboard=False, filename=self.FILENAME, columns=columns)
        self.next = (int(agent.num_timesteps) // every + 1) * every

    def __call__(self, metrics: dict[str, float]) -> bool:
        steps = int(metrics["env_steps"])
        if steps >= self.next:
            from agents.evaluation import evaluate

            result = evaluate(self.agent, n_episodes=self.episodes, split="validation")
            error = round(1.0 - result.mean_reward, 6)
            self.logger.log({"env_steps": steps, "validation_error": error, "episodes": result.episodes})
            self.next = (steps // self.every + 1) * self.every
        return True

    def close(self) -> None:
        self.logger.close()
