"""Running a sweep: the local executor (``jobs`` worker processes) and the Ray one.

Re-running a sweep skips runs whose ``result.json`` says ``ok`` and continues an interrupted
run from its checkpoint, so a sweep stopped by Ctrl-C, SIGTERM or the end of a session
resumes where it was; a run that raises is recorded as ``failed`` (with the error) and the
others go on.  A local worker is sent SIGTERM when the sweep's process dies (the prctl
parent-death signal), so no run trains on for nobody: it stops at its next update boundary,
writes its final checkpoint and ends.  One sweep at a time runs in an output directory (a
lock file).  At the end the report (:mod:`agents.sweep.report`) is written.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from agents.locks import directory_lock
from agents.sweep.report import finished_runs, summarize
from agents.sweep.run import _orphaned, execute
from agents.sweep.spec import RunSpec, SweepConfig, SweepConfigError, check_runs, expand


def run_sweep(
    config: SweepConfig,
    out: str | os.PathLike,
    jobs: int = 1,
    log: Callable[[str], object] = print,
    executor: str = "local",
    address: str | None = None,
    cpus_per_run: int = 1,
    threads: int | None = None,
    reuse: Sequence[str | os.PathLike] = (),
) -> list[dict[str, Any]]:
    """Run every not-yet-finished run of the sweep, then summarize.

    One sweep at a time may run in ``out`` (a lock file, :data:`SWEEP_LOCK`); its local workers
    hold the lock too, until the last of them has ended.

    Args:
        executor: ``"local"`` (``jobs`` processes on this machine) or ``"ray"`` (each run a
            Ray task asking for ``cpus_per_run`` CPUs, on the cluster at ``address``:
            ``"auto"`` joins the one this machine belongs to, ``None`` starts a local one).
            Every run writes ``OUT/runs/<run>/`` itself, so on a cluster ``out`` must be a
            directory every node sees (a shared file system).
        threads: torch threads per local run (default: the machine's cores / ``jobs``).
        reuse: other ``ram bench`` output directories (run directories or a committed
            ``results.csv``): their finished runs whose name - settings hash included - is a run
            of this sweep are copied into ``out`` (``reused_from`` names the source) and not run
            again, e.g. to add seeds to a committed sweep.

    Raises:
        SweepConfigError: a bad ``executor``, a run that cannot be made, or ``out`` in use by
            another sweep (then nothing in ``out`` is touched).
    """
    if executor not in ("local", "ray"):
        raise SweepConfigError(f"executor must be 'local' or 'ray', got {executor!r}")
    out = Path(out)
    with _sweep_lock(out):
        (out / "runs").mkdir(parents=True, exist_ok=True)
        specs = expand(config)
        for source in reuse:
            _adopt(specs, out, Path(source), log)
        todo, results = _unfinished(specs, out)
        if todo:
            check_runs(config, log)
        log(
            f"sweep {config.name}: {len(specs)} runs, {len(specs) - len(todo)} already finished, {len(todo)} to run "
            f"with {jobs} job(s)"
        )
        threads = threads or max(1, (os.cpu_count() or 2) // max(1, jobs))
        if executor == "ray":
            for result in _run_on_ray(todo, out, address, cpus_per_run, log):
                results[result["run"]] = _report(result, log)
        elif jobs <= 1:
            for spec in todo:
                results[spec.name] = _report(execute(spec, str(out / "runs" / spec.name), threads), log)
                if results[spec.name]["status"] == "interrupted":  # Ctrl-C / SIGTERM: stop the sweep here
                    break
        else:
            for result in _run_in_pool(todo, out, jobs, threads, log):
                results[result["run"]] = result
        ordered = [results[s.name] for s in specs if s.name in results]
        summarize(ordered, out, config.name)
    return ordered


#: the lock file of a sweep's output directory (as a run directory has its own, :mod:`agents.training`)
SWEEP_LOCK = ".lock"


@contextmanager
def _sweep_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the sweep directory ``out`` while this sweep runs there; another
    sweep on ``out`` is refused at once, before it reads or writes anything there.

    Local workers are forked with the lock's file open, so they hold it too: a sweep whose
    process was killed keeps ``out`` until its workers have saved their runs and ended."""

    def busy(holder: str) -> SweepConfigError:
        return SweepConfigError(
            f"{out} is in use: {holder} is running a sweep there (one `ram bench` per output directory at a time)"
        )

    with directory_lock(out, SWEEP_LOCK, busy):
        yield


def _adopt(specs: list[RunSpec], out: Path, source: Path, log: Callable[[str], object]) -> None:
    """Copy the finished runs of ``source`` that are runs of ``specs`` (same name, so the same
    settings hash) and not yet finished in ``out`` into ``out/runs/<run>/result.json``, with the
    training curve (``curve.csv``) where ``source`` has one."""
    if source.resolve() == out.resolve():
        return
    wanted = {s.name for s in specs if not (out / "runs" / s.name / "result.json").exists()}
    adopted = 0
    for result in finished_runs(source):
        if result["run"] not in wanted or result.get("status") != "ok":
            continue
        run_dir = out / "runs" / result["run"]
        run_dir.mkdir(parents=True, exist_ok=True)
        origin = Path(result.pop("_dir", source))
        if (origin / "curve.csv").is_file():
            shutil.copyfile(origin / "curve.csv", run_dir / "curve.csv")
        result["reused_from"] = str(source)
        (run_dir / "result.json").write_text(json.dumps(result, indent=2, default=str))
        wanted.discard(result["run"])
        adopted += 1
    log(f"reused {adopted} finished run(s) of this sweep from {source}")


def _unfinished(specs: list[RunSpec], out: Path) -> tuple[list[RunSpec], dict[str, dict[str, Any]]]:
    """The runs still to run, and the results (by run name) of those whose ``result.json`` says ``ok``."""
    todo, results = [], {}
    for spec in specs:
        done = out / "runs" / spec.name / "result.json"
        if done.exists():
            try:
                previous = json.loads(done.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):  # truncated by a kill: run it again
                previous = {}
            if isinstance(previous, dict) and previous.get("status") == "ok":
                results[spec.name] = previous
                continue
        todo.append(spec)
    return todo, results


def _run_in_pool(
    todo: list[RunSpec], out: Path, jobs: int, threads: int, log: Callable[[str], object]
) -> list[dict[str, Any]]:
    """Run ``todo`` in ``jobs`` worker processes, handing a worker its next run only when it is
    free, so Ctrl-C (or a run stopped by a signal) starts nothing new: the running runs stop
    at an update boundary with a checkpoint and are reported, the rest wait for a re-run."""
    results: list[dict[str, Any]] = []
    queue = list(todo)
    with ProcessPoolExecutor(max_workers=jobs, initializer=_die_with_parent) as pool:
        running: dict[Future, RunSpec] = {}
        try:
            while queue or running:
                while queue and len(running) < jobs:
                    spec = queue.pop(0)
                    running[pool.submit(execute, spec, str(out / "runs" / spec.name), threads, worker=True)] = spec
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    del running[future]
                    results.append(_report(future.result(), log))
                    if results[-1]["status"] == "interrupted":
                        queue.clear()
        except KeyboardInterrupt:
            queue.clear()
            log("interrupted: the running runs stop with a checkpoint; re-run the same command to resume")
            for future in running:  # they got the signal too (one terminal, one process group)
                results.append(_report(future.result(), log))
    if len(results) < len(todo):
        log(f"{len(todo) - len(results)} run(s) not started; re-run the same command to run them")
    return results


def _run_on_ray(
    todo: list[RunSpec], out: Path, address: str | None, cpus: int, log: Callable[[str], object]
) -> Iterator[dict[str, Any]]:
    """Yield each run's result as its Ray task finishes; a task that dies is a failed run.

    Ctrl-C stops the sweep as it stops a local one: the tasks are cancelled, not forced, so Ray
    interrupts the main thread of a worker running one, which training takes as SIGINT: the run
    stops at its next update boundary with a checkpoint.  What those runs report is yielded; the
    queued ones wait for a re-run."""
    try:
        import ray
    except ImportError as err:
        raise SweepConfigError("--executor ray needs Ray: pip install 'ram-gym[ray]'") from err
    pending: dict[Any, RunSpec] = {}
    before: dict[str, int | None] = {}  # each run's result.json as it was before this sweep
    reported = 0
    try:
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        # workers import what the driver can (plug-in agents included): give them its path
        path = [p for p in sys.path if p and os.path.isdir(p)]
        task = ray.remote(num_cpus=cpus)(execute)
        for spec in todo:
            before[spec.name] = _stamp(out / "runs" / spec.name / "result.json")
            pending[task.remote(spec, str(out / "runs" / spec.name), cpus, path)] = spec
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                spec = pending.pop(ref)
                reported += 1
                yield _ray_result(ray, ref, spec, out)
    except KeyboardInterrupt:
        log("interrupted: the running runs stop with a checkpoint; re-run the same command to resume")
        for ref in pending:
            ray.cancel(ref, force=False)
        for ref, spec in pending.items():
            try:
                result = ray.get(ref)
            except Exception:  # noqa: BLE001 - cancelled: what the run wrote itself, if it ran
                result = _written_since(out / "runs" / spec.name / "result.json", before.get(spec.name))
            if result is not None:
                reported += 1
                yield result
    if reported < len(todo):
        log(f"{len(todo) - reported} run(s) not started; re-run the same command to run them")


def _ray_result(ray: Any, ref: Any, spec: RunSpec, out: Path) -> dict[str, Any]:
    """The result of a finished Ray task; a task whose worker died is recorded as a failed run."""
    try:
        result: dict[str, Any] = ray.get(ref)
        return result
    except Exception as err:  # noqa: BLE001 - the worker died: record it like any failure
        result = {"run": spec.name, **asdict(spec), "status": "failed", "error": f"{type(err).__name__}: {err}"}
        run_dir = out / "runs" / spec.name
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "result.json").write_text(json.dumps(result, indent=2, default=str))
        return result


def _stamp(path: Path) -> int | None:
    """When ``path`` was last written (``None``: it does not exist)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _written_since(path: Path, stamp: int | None) -> dict[str, Any] | None:
    """The result in ``path`` if it was written since ``stamp`` (:func:`_stamp`), else ``None``."""
    if _stamp(path) in (None, stamp):
        return None
    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return result if isinstance(result, dict) and "run" in result and "status" in result else None


def _die_with_parent() -> None:
    """In a worker: be sent SIGTERM when the sweep's process dies, even by SIGKILL (Linux).

    An idle worker then ends at once; a worker running a run stops it at its next update
    boundary, writes its final checkpoint and ``result.json``, and exits
    (:func:`agents.sweep.run.execute` with ``worker=True``: the signal may come several times,
    and none of them interrupts that save).  Where there is no parent-death signal, a running
    worker notices it is orphaned at its next update the same way."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers end when their pipe closes
        pass
    if _orphaned():  # the parent died before prctl took effect
        os._exit(1)


def _report(result: dict[str, Any], log: Callable[[str], object]) -> dict[str, Any]:
    """Log one finished run in a line (ok, stopped part-way, or FAILED) and return it."""
    if result["status"] == "ok":
        log(
            f"  ok      {result['run']}: score {result['score']:.4f}, {result['env_steps']:,} steps in "
            f"{result['train_seconds']:.0f} s"
        )
    elif result["status"] == "interrupted":
        log(f"  stopped {result['run']} at {result.get('env_steps', 0):,} steps (checkpointed; re-run to resume)")
    else:
        log(f"  FAILED  {result['run']}: {result.get('error')}")
    return result
