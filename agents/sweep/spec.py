"""The sweep file format: the YAML spec, its checks, and the runs it expands to.

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

Every run is keyed by a hash of everything that defines it (:attr:`RunSpec.key`), the
package's defaults for it included, so an edited default re-runs the run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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


def resolved(algo: str, env_id: str, hparams: dict[str, Any]) -> dict[str, Any]:
    """The settings a run of ``algo`` on ``env_id`` really uses (see :func:`agents.registry.resolved_settings`)."""
    from agents.registry import resolved_settings

    try:
        return resolved_settings(algo, env_id, hparams)
    except (ValueError, TypeError) as err:  # e.g. an unknown or mistyped hyper-parameter in the sweep file
        raise SweepConfigError(f"hparams of {algo} on {env_id}: {err}") from None


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
            {**asdict(self), "resolved": resolved(self.algo, self.env_id, self.hparams)},
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

    path = Path(path)
    raw, declared = _read(path, overrides)
    _check_lists(path, raw)
    _check_names(path, raw)
    _check_numbers(path, raw)
    _check_tables(path, raw, declared)
    config = SweepConfig(**raw)
    for algo in config.hparams:
        for env_id in config.envs:
            try:
                run_hparams(config, algo, env_id)
            except ValueError as err:
                raise SweepConfigError(f"{path}: {err}") from None
    return config


def _read(path: Path, overrides: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The file's top-level mapping with ``overrides`` applied, its keys checked, and the
    ``algos`` / ``envs`` the file itself declared (what its hparams may name)."""
    from agents.yamlfile import YamlFileError, load_mapping

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
    return raw, declared


def _check_lists(path: Path, raw: dict[str, Any]) -> None:
    """``algos``, ``envs`` and ``seeds`` as non-empty lists without repeats (in place), and the name."""
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


def _check_names(path: Path, raw: dict[str, Any]) -> None:
    """Every algorithm can be found, every env id is registered, every seed is an integer."""
    from agents.registry import algorithm
    from ram_env.registration import ENV_IDS

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


def _check_numbers(path: Path, raw: dict[str, Any]) -> None:
    """The budget (``steps``), the optional wall-clock cap (``minutes``) and ``eval_episodes``."""
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


def _check_tables(path: Path, raw: dict[str, Any], declared: dict[str, Any]) -> None:
    """``hparams`` and ``env_kwargs`` map names the file runs to mappings; in place, they keep
    only the entries of what this sweep (after the overrides) runs."""
    from ram_env.registration import ENV_IDS

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


def check_runs(config: SweepConfig, log: Callable[[str], object] = print) -> None:
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
    """The sweep's runs, seed-major (a sweep stopped early has every pair at its first seeds)."""
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
