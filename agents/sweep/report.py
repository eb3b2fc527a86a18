"""The report of a sweep: ``results.csv`` (every run), ``results.md`` (mean ± std over seeds
per environment, track and algorithm), ``curves.png`` (training curves) and ``scores.png``
(test scores); and one such report merged from several sweeps' result directories.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from agents.sweep.spec import SweepConfigError


def merge_tables(
    result_dirs: list[str | os.PathLike], out: str | os.PathLike, name: str = "merged"
) -> list[dict[str, Any]]:
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
    """The track (``rl`` or ``privileged``) of a built-in algorithm's defaults; ``?`` for others."""
    if algo in ("ppo", "a2c", "dqn", "recurrent-ppo", "ram-rl"):
        return "rl"
    if algo in ("fc", "cnn"):
        return "privileged"
    if algo == "ram":  # its defaults: the hybrid loss on classification, plain REINFORCE on Catch
        return "rl" if "Catch" in env_id else "privileged"
    return "?"


def _mean_std(values: list[float], digits: int = 3) -> str:
    """``mean ± std`` of a table cell (one value alone; ``-`` for none)."""
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
    """``curves.png`` (training curves, mean ± std over seeds) and ``scores.png`` (test scores)."""
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
        if ax.get_legend_handles_labels()[0]:  # no finished run yet (a sweep stopped early): no legend
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
    """A trailing mean over ``window`` points (over the points so far at the start); NaN as 0."""
    y = np.nan_to_num(y)
    if len(y) < window:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    head = c[1:window] / np.arange(1, window)
    return np.concatenate([head, (c[window:] - c[:-window]) / window])
