"""``ram bench``: a grid of algorithms x environments x seeds under one budget, evaluated alike.

A sweep is described by a YAML file (see ``benchmarks/configs/sweep_small.yaml``)::

    name: small-sweep
    algos: [ram, ppo, recurrent-ppo, a2c]
    envs: [RAM-MNIST-v0, RAM-Catch-v0]
    seeds: [0, 1, 2]
    steps: 200000           # env steps per run (the budget)
    minutes: null           # optional wall-clock cap per run
    eval_episodes: 1000     # test episodes per run (classification: the first N test images)
    hparams:                                 # optional, per algorithm ...
      ram:
        num_envs: 128
        RAM-Catch-v0: {config: ram_catch}    # ... and per algorithm and environment
    env_kwargs: {RAM-Catch-v0: {}}           # optional, per environment

An algorithm's ``hparams`` entry holds settings for every environment and, under an env
id, settings for that one (they win).  For ``ram`` and ``ram-rl``, ``config`` names a
shipped recipe (or a YAML file), whose fields go under the others.

Every run is keyed by a hash of everything that defines it, and trains in
``OUT/runs/<algo>-<env>-s<seed>-<hash>/`` as a ``ram train`` run directory would
(``config.json``, ``progress.csv``, ``checkpoint.pt`` every 100 updates, ``model.pt``), then
writes ``curve.csv`` and ``result.json``.  Re-running the sweep skips runs whose
``result.json`` says ``ok`` and continues an interrupted run from its checkpoint, so a
sweep stopped by Ctrl-C, SIGTERM or the end of a session resumes where it was; a run
that raises is recorded as ``failed`` (with the error) and the others go on.  At the end
``OUT/results.csv`` (every run), ``OUT/results.md`` (mean ± std over seeds) and
``OUT/curves.png`` / ``OUT/scores.png`` are written.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SweepConfig", "RunSpec", "load_sweep", "run_hparams", "run_sweep", "summarize"]

_KEYS = {"name", "algos", "envs", "seeds", "steps", "minutes", "eval_episodes", "hparams", "env_kwargs"}


class SweepConfigError(ValueError):
    """A sweep file that cannot be run, with the reason."""


@dataclass
class SweepConfig:
    name: str
    algos: list[str]
    envs: list[str]
    seeds: list[int]
    steps: int
    minutes: float | None = None
    eval_episodes: int = 1000
    hparams: dict[str, dict[str, Any]] = field(default_factory=dict)
    env_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)


def _resolved(algo: str, env_id: str, hparams: dict[str, Any]) -> dict[str, Any]:
    from agents.registry import resolved_settings

    return resolved_settings(algo, env_id, hparams)


@dataclass
class RunSpec:
    algo: str
    env_id: str
    seed: int
    steps: int
    minutes: float | None
    eval_episodes: int
    hparams: dict[str, Any]
    env_kwargs: dict[str, Any]

    @property
    def key(self) -> str:
        """Hash of everything that defines the run, the package's defaults for it included."""
        blob = json.dumps(
            {**asdict(self), "resolved": _resolved(self.algo, self.env_id, self.hparams)},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha1(blob.encode()).hexdigest()[:10]

    @property
    def name(self) -> str:
        algo = self.algo.replace(":", "-").replace("/", "-").replace(".", "-")  # a plug-in's package.module:Class
        return f"{algo}-{self.env_id}-s{self.seed}-{self.key}"


def load_sweep(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> SweepConfig:
    """Read and check a sweep YAML file (``overrides`` replace top-level keys)."""
    from agents import algorithms  # noqa: F401  (fills the table)
    from agents.registry import algorithm
    from agents.yamlfile import YamlFileError, load_mapping
    from ram_env.registration import ENV_IDS

    path = Path(path)
    try:
        raw = load_mapping(path)
    except YamlFileError as err:
        raise SweepConfigError(str(err)) from None
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    declared = {key: raw.get(key) for key in ("algos", "envs")}  # what the file's hparams may name
    raw.update(overrides)
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise SweepConfigError(f"{path}: unknown key(s) {unknown}; known: {sorted(_KEYS)}")
    missing = sorted({"algos", "envs", "seeds", "steps"} - set(raw))
    if missing:
        raise SweepConfigError(f"{path}: missing key(s) {missing}")
    raw.setdefault("name", path.stem)
    for key in ("algos", "envs", "seeds"):
        if isinstance(raw[key], (str, int)):
            raw[key] = [raw[key]]
        if not isinstance(raw[key], list) or not raw[key]:
            raise SweepConfigError(f"{path}: {key} must be a non-empty list, got {raw[key]!r}")
    for key in ("algos", "envs", "seeds"):
        repeated = sorted({str(v) for v in raw[key] if raw[key].count(v) > 1})
        if repeated:
            raise SweepConfigError(f"{path}: {key} lists {repeated} more than once (each run would run twice)")
    if not isinstance(raw["name"], str) or not raw["name"]:
        raise SweepConfigError(f"{path}: name must be a non-empty string, got {raw['name']!r}")
    for name in raw["algos"]:
        if not isinstance(name, str):
            raise SweepConfigError(f"{path}: algos must be names, got {name!r}")
        try:
            algorithm(name)  # built-in, installed plug-in, or package.module:Class (imported here)
        except ValueError as err:
            raise SweepConfigError(f"{path}: {err}") from None
    bad_envs = [e for e in raw["envs"] if e not in ENV_IDS]
    if bad_envs:
        raise SweepConfigError(f"{path}: unknown env id(s) {bad_envs}; known: {list(ENV_IDS)}")
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in raw["seeds"]):
        raise SweepConfigError(f"{path}: seeds must be integers, got {raw['seeds']!r}")
    if isinstance(raw["steps"], bool) or not isinstance(raw["steps"], int) or raw["steps"] < 1:
        raise SweepConfigError(f"{path}: steps must be a positive integer, got {raw['steps']!r}")
    minutes = raw.get("minutes")
    if minutes is not None and (
        isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not 0 < minutes < float("inf")
    ):
        raise SweepConfigError(f"{path}: minutes must be a positive number (or null), got {minutes!r}")
    episodes = raw.get("eval_episodes", 1000)
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise SweepConfigError(f"{path}: eval_episodes must be a positive integer, got {episodes!r}")
    for key in ("hparams", "env_kwargs"):
        value = raw.get(key) or {}
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise SweepConfigError(f"{path}: {key} must map names to mappings, got {value!r}")
        raw[key] = value
    # The file's hparams / env_kwargs may name only what the file runs; an --algos / --envs
    # override that runs a subset keeps the entries of that subset and drops the others.
    file_algos, file_envs = (_as_list(declared[k]) or raw[k] for k in ("algos", "envs"))
    names = {"hparams": (set(file_algos), set(raw["algos"])), "env_kwargs": (set(file_envs), set(raw["envs"]))}
    for key, (allowed, running) in names.items():
        stray = sorted(set(raw[key]) - allowed)
        if stray:
            raise SweepConfigError(f"{path}: {key} names {stray}, which the sweep does not run ({sorted(allowed)})")
        raw[key] = {name: value for name, value in raw[key].items() if name in running}
    for algo, table in raw["hparams"].items():
        for env_id in set(table) & set(ENV_IDS):
            if env_id not in file_envs:
                raise SweepConfigError(f"{path}: hparams of {algo} name {env_id}, which the sweep does not run")
            if not isinstance(table[env_id], dict):
                raise SweepConfigError(f"{path}: hparams of {algo} for {env_id} must be a mapping")
        raw["hparams"][algo] = {k: v for k, v in table.items() if k not in ENV_IDS or k in raw["envs"]}
    config = SweepConfig(**raw)
    for algo in config.hparams:
        for env_id in config.envs:
            try:
                run_hparams(config, algo, env_id)
            except ValueError as err:
                raise SweepConfigError(f"{path}: {err}") from None
    return config


def _as_list(value: Any) -> list[Any]:
    """A sweep list as the file wrote it (one name or number may stand alone); [] if absent."""
    if value is None:
        return []
    return [value] if isinstance(value, (str, int)) else list(value) if isinstance(value, list) else []


def run_hparams(config: SweepConfig, algo: str, env_id: str) -> dict[str, Any]:
    """The hyper-parameters of ``algo`` on ``env_id`` in this sweep: the algorithm's common
    entries, updated by its entry for ``env_id``; a RAM recipe named by ``config`` under both."""
    from ram_env.registration import ENV_IDS

    table = config.hparams.get(algo, {})
    params = {k: v for k, v in table.items() if k not in ENV_IDS}
    params.update(table.get(env_id) or {})
    recipe = params.pop("config", None)
    if recipe is not None:
        from agents.registry import ALGORITHMS, algorithm

        if not algorithm(algo).recipes:
            takers = ", ".join(name for name, entry in ALGORITHMS.items() if entry.recipes)
            raise ValueError(f"hparams of {algo}: 'config' names a RAM recipe; only {takers} take one")
        from agents.ram.recipes import resolve_config

        params = {**resolve_config(recipe), **params}
    return params


def check_runs(config: SweepConfig, log: Any = print) -> None:
    """Build each (algorithm, environment) pair's agent once, before any run starts, so an
    unknown hyper-parameter or an invalid env keyword fails now rather than after hours."""
    from agents.registry import make_agent

    for env_id in config.envs:
        for algo in config.algos:
            try:
                make_agent(
                    algo, env_id, config.seeds[0], run_hparams(config, algo, env_id), config.env_kwargs.get(env_id, {})
                )
            except Exception as err:
                raise SweepConfigError(f"{algo} on {env_id} cannot be made: {type(err).__name__}: {err}") from None
    log(f"checked {len(config.algos) * len(config.envs)} algorithm x environment pair(s)")


def expand(config: SweepConfig) -> list[RunSpec]:
    return [
        RunSpec(
            algo,
            env_id,
            seed,
            config.steps,
            config.minutes,
            config.eval_episodes,
            run_hparams(config, algo, env_id),
            dict(config.env_kwargs.get(env_id, {})),
        )
        for seed in config.seeds  # seed-major: a sweep stopped early has every pair at its first seeds
        for env_id in config.envs
        for algo in config.algos
    ]


def execute(spec: RunSpec, run_dir: str, threads: int, import_path: list[str] | None = None) -> dict[str, Any]:
    """Train and evaluate one run (in a worker process); never raises: failures are results.

    The run trains in ``run_dir`` as a ``ram train`` run (:mod:`agents.training`): it writes
    ``checkpoint.pt`` every :data:`CHECKPOINT_EVERY` updates and when it is stopped (SIGTERM,
    Ctrl-C: then ``status`` is ``"interrupted"``), and a later call continues from there.
    ``import_path``: directories to import plug-in agents from (a Ray worker gets the driver's).
    """
    for entry in import_path or []:
        if entry not in sys.path:
            sys.path.append(entry)
    import torch

    from agents.registry import evaluate_agent, make_agent
    from agents.training import CHECKPOINT, resume, train

    torch.set_num_threads(max(1, threads))
    run_dir_path = Path(run_dir)
    run_dir_path.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"run": spec.name, **asdict(spec), "status": "failed", "provenance": provenance()}
    started = time.perf_counter()
    options: dict[str, Any] = {"minutes": spec.minutes, "checkpoint_every": CHECKPOINT_EVERY, "tensorboard": False}
    try:
        if (run_dir_path / CHECKPOINT).exists():  # an interrupted run: continue it
            outcome = resume(run_dir_path, spec.steps, env_id=spec.env_id, algo=spec.algo, **options)
            result["resumed_from"] = outcome.agent.num_timesteps - outcome.steps_this_session
        else:
            agent = make_agent(spec.algo, spec.env_id, spec.seed, spec.hparams, spec.env_kwargs)
            settings = _resolved(spec.algo, spec.env_id, spec.hparams)
            outcome = train(agent, run_dir_path, spec.steps, settings=settings, seed=spec.seed, **options)
        agent = outcome.agent
        result["track"] = agent.track
        rows = _progress_rows(run_dir_path)
        _write_curve(run_dir_path, rows)
        if outcome.stopped_by == "signal":
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
    if result["status"] == "interrupted" and _orphaned():
        os._exit(0)  # the sweep that started this worker is gone (it was killed): nobody waits for more
    return result


def _orphaned() -> bool:
    """In a local sweep's worker process: has the sweep process that started it died?"""
    import multiprocessing

    parent = multiprocessing.parent_process()
    return parent is not None and os.getppid() != parent.pid


#: updates (RAM batches, SB3 rollouts) between a sweep run's checkpoints
CHECKPOINT_EVERY = 100


def _progress_rows(run_dir: Path) -> list[dict[str, str]]:
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


def run_sweep(
    config: SweepConfig,
    out: str | os.PathLike,
    jobs: int = 1,
    log: Any = print,
    executor: str = "local",
    address: str | None = None,
    cpus_per_run: int = 1,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Run every not-yet-finished run of the sweep, then summarize.

    Args:
        executor: ``"local"`` (``jobs`` processes on this machine) or ``"ray"`` (each run a
            Ray task asking for ``cpus_per_run`` CPUs, on the cluster at ``address``:
            ``"auto"`` joins the one this machine belongs to, ``None`` starts a local one).
            Every run writes ``OUT/runs/<run>/`` itself, so on a cluster ``out`` must be a
            directory every node sees (a shared file system).
        threads: torch threads per local run (default: the machine's cores / ``jobs``).
    """
    if executor not in ("local", "ray"):
        raise SweepConfigError(f"executor must be 'local' or 'ray', got {executor!r}")
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    specs = expand(config)
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
    if todo:
        check_runs(config, log)
    log(
        f"sweep {config.name}: {len(specs)} runs, {len(specs) - len(todo)} already finished, {len(todo)} to run "
        f"with {jobs} job(s)"
    )
    threads = threads or max(1, (os.cpu_count() or 2) // max(1, jobs))
    if executor == "ray":
        for result in _run_on_ray(todo, out, address, cpus_per_run):
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


def _run_in_pool(todo: list[RunSpec], out: Path, jobs: int, threads: int, log: Any) -> list[dict[str, Any]]:
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
                    running[pool.submit(execute, spec, str(out / "runs" / spec.name), threads)] = spec
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


def _run_on_ray(todo: list[RunSpec], out: Path, address: str | None, cpus: int) -> Any:
    """Yield each run's result as its Ray task finishes; a task that dies is a failed run."""
    try:
        import ray
    except ImportError as err:
        raise SweepConfigError("--executor ray needs Ray: pip install 'ram-gym[ray]'") from err
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    # workers import what the driver can (plug-in agents included): give them its path
    path = [p for p in sys.path if p and os.path.isdir(p)]
    task = ray.remote(num_cpus=cpus)(execute)
    pending = {task.remote(spec, str(out / "runs" / spec.name), cpus, path): spec for spec in todo}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            spec = pending.pop(ref)
            try:
                yield ray.get(ref)
            except Exception as err:  # noqa: BLE001 - the worker died: record it like any failure
                result = {"run": spec.name, **asdict(spec), "status": "failed", "error": f"{type(err).__name__}: {err}"}
                run_dir = out / "runs" / spec.name
                run_dir.mkdir(parents=True, exist_ok=True)
                (run_dir / "result.json").write_text(json.dumps(result, indent=2, default=str))
                yield result


def _die_with_parent() -> None:
    """In a worker: be sent SIGTERM when the sweep's process dies, even by SIGKILL (Linux); the run
    then stops at an update boundary with a checkpoint and the worker exits."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers end when their pipe closes
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def merge_tables(result_dirs: list[str | os.PathLike], out: str | os.PathLike, name: str = "merged") -> list[dict]:
    """One table and picture from several sweeps' result directories (``DIR/runs/*/result.json``),
    e.g. the committed reference results and a new algorithm's run; the first directory
    holding a run wins."""
    results: dict[str, dict[str, Any]] = {}
    for d in result_dirs:
        runs = sorted((Path(d) / "runs").glob("*/result.json"))
        if not runs and (Path(d) / "results.csv").is_file():  # a committed table without its run directories
            for row in _read_results_csv(Path(d) / "results.csv"):
                results.setdefault(row["run"], row)
            continue
        if not runs:
            raise SweepConfigError(f"{d} holds neither runs/*/result.json nor results.csv (a `ram bench` output?)")
        for path in runs:
            try:
                result = json.loads(path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # truncated by a kill: not a result
            if isinstance(result, dict) and "run" in result:
                results.setdefault(result["run"], {**result, "_dir": str(path.parent)})
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ordered = sorted(results.values(), key=lambda r: (r["env_id"], r["algo"], r.get("seed", 0)))
    summarize(ordered, out, name)
    return ordered


def _read_results_csv(path: Path) -> list[dict[str, Any]]:
    """The rows of a ``results.csv``, numbers as numbers; rows written before tracks existed
    get the track their algorithm's defaults have."""
    numbers = {"seed", "score", "error_rate", "env_steps", "train_seconds", "steps_per_second", "eval_episodes"}
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            out: dict[str, Any] = dict(row)
            for key in numbers & set(row):
                try:
                    out[key] = float(row[key]) if row[key] not in ("", None) else None
                except ValueError:
                    out[key] = None
            out["seed"] = int(out.get("seed") or 0)
            if not out.get("track"):
                out["track"] = _default_track(out["algo"], out["env_id"])
            rows.append(out)
    return rows


def _default_track(algo: str, env_id: str) -> str:
    if algo in ("ppo", "a2c", "dqn", "recurrent-ppo", "ram-rl"):
        return "rl"
    if algo in ("fc", "cnn"):
        return "privileged"
    if algo == "ram":  # its defaults: the hybrid loss on classification, plain REINFORCE on Catch
        return "rl" if "Catch" in env_id else "privileged"
    return "?"


def _report(result: dict[str, Any], log: Any) -> dict[str, Any]:
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


def _mean_std(values: list[float], digits: int = 3) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:,.{digits}f}"
    return f"{np.mean(values):,.{digits}f} ± {np.std(values):,.{digits}f}"


def summarize(results: list[dict[str, Any]], out: str | os.PathLike, name: str = "sweep") -> None:
    """Write ``results.csv``, ``results.md`` and the plots for ``results``."""
    out = Path(out)
    columns = [
        "run",
        "algo",
        "track",
        "env_id",
        "seed",
        "status",
        "score",
        "error_rate",
        "env_steps",
        "train_seconds",
        "steps_per_second",
        "eval_episodes",
        "wall_seconds",
        "git_commit",
        "ram_gym",
        "error",
    ]
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for r in results:
            prov = r.get("provenance") or {}
            writer.writerow(
                {**r, "git_commit": prov.get("git_commit"), "ram_gym": prov.get("versions", {}).get("ram-gym")}
            )
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["env_id"], r.get("track") or "?", r["algo"]), []).append(r)
    lines = [
        f"# {name}",
        "",
        "Score: test accuracy (classification, fixed test images) or catch rate (Catch); mean ± std over seeds.",
        'Track: *rl* learns from the reward alone; *privileged* reads `info["label"]` / `info["state"]` in',
        "training. Env steps: what each run really took (runs stop at the first update past the budget).",
        "",
        "| env | track | algo | seeds ok | score | env steps | wall-clock (s) | steps/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (env_id, track, algo), runs in sorted(groups.items()):
        ok = [r for r in runs if r["status"] == "ok"]
        stopped = sum(r["status"] == "interrupted" for r in runs)
        failed = len(runs) - len(ok) - stopped
        notes = [f"{failed} failed"] * bool(failed) + [f"{stopped} stopped part-way, resumable"] * bool(stopped)
        seeds = f"{len(ok)}/{len(runs)}" + (f" ({', '.join(notes)})" if notes else "")
        lines.append(
            f"| {env_id} | {track} | {algo} | {seeds} | "
            f"{_mean_std([r['score'] for r in ok])} | {_mean_std([r['env_steps'] for r in ok], 0)} | "
            f"{_mean_std([r['train_seconds'] for r in ok], 1)} | {_mean_std([r['steps_per_second'] for r in ok], 0)} |"
        )
    (out / "results.md").write_text("\n".join(lines) + "\n")
    _plots(results, out)


def _plots(results: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = sorted({r["env_id"] for r in results})
    if not envs:
        return
    fig, axes = plt.subplots(1, len(envs), figsize=(6 * len(envs), 4.5), squeeze=False)
    for ax, env_id in zip(axes[0], envs, strict=True):
        for algo in sorted({r["algo"] for r in results if r["env_id"] == env_id}):
            curves = []
            for r in results:
                path = Path(r.get("_dir") or out / "runs" / r["run"]) / "curve.csv"
                if r["env_id"] == env_id and r["algo"] == algo and r["status"] == "ok" and path.exists():
                    data = np.genfromtxt(path, delimiter=",", skip_header=1, ndmin=2)
                    data = data[np.isfinite(data[:, 1])] if data.size else data  # no finished episode yet
                    if data.size:
                        curves.append(data)
            if not curves:
                continue
            top = min(c[-1, 0] for c in curves)
            grid = np.linspace(0, top, 50)
            ys = np.array([np.interp(grid, c[:, 0], _running_mean(c[:, 1])) for c in curves])
            mean, std = ys.mean(0), ys.std(0)
            ax.plot(grid, mean, label=f"{algo} ({len(curves)} seeds)")
            ax.fill_between(grid, mean - std, mean + std, alpha=0.2)
        ax.set_title(env_id)
        ax.set_xlabel("env steps")
        ax.set_ylabel("training reward / accuracy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(envs), figsize=(6 * len(envs), 4), squeeze=False)
    for ax, env_id in zip(axes[0], envs, strict=True):
        algos = sorted({r["algo"] for r in results if r["env_id"] == env_id})
        scores = [
            [r["score"] for r in results if r["env_id"] == env_id and r["algo"] == a and r["status"] == "ok"]
            for a in algos
        ]
        means = [np.mean(s) if s else math.nan for s in scores]
        stds = [np.std(s) if s else 0 for s in scores]
        ax.bar(algos, means, yerr=stds, capsize=4, color="tab:blue", alpha=0.8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{env_id}: test score")
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(out / "scores.png", dpi=90)
    plt.close(fig)


def _running_mean(y: np.ndarray, window: int = 10) -> np.ndarray:
    y = np.nan_to_num(y)
    if len(y) < window:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    head = c[1:window] / np.arange(1, window)
    return np.concatenate([head, (c[window:] - c[:-window]) / window])
