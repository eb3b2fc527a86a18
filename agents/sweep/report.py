"""The report of a sweep: ``results.csv`` (every run), ``results.md`` (per environment, track
and algorithm: the chance level, the IQM over seeds with its 95% bootstrap interval, mean ± std,
the budget, env steps, time), ``curves.png`` (training curves), ``scores.png`` (test scores) and
``probability_of_improvement.png`` (P(X > Y) per pair of algorithms in one track); and one such
report merged from several sweeps' result directories.  The statistics: :mod:`agents.sweep.stats`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from agents.sweep import stats
from agents.sweep.spec import SweepConfigError


def merge_tables(
    result_dirs: list[str | os.PathLike], out: str | os.PathLike, name: str = "merged"
) -> list[dict[str, Any]]:
    """One table and picture from several sweeps' result directories (``DIR/runs/*/result.json``),
    e.g. the committed reference results and a new algorithm's run; the first directory
    holding a run wins."""
    results: dict[str, dict[str, Any]] = {}
    for d in result_dirs:
        for result in finished_runs(d):
            results.setdefault(result["run"], result)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ordered = sorted(results.values(), key=lambda r: (r["env_id"], r["algo"], r.get("seed", 0)))
    summarize(ordered, out, name)
    return ordered


def finished_runs(result_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The runs recorded in a ``ram bench`` output directory: each ``runs/*/result.json`` (with
    ``_dir``, its run directory), or, for a committed table without its run directories, the rows
    of its ``results.csv``.  Files cut short by a kill are skipped.

    Raises:
        SweepConfigError: ``result_dir`` holds neither.
    """
    d = Path(result_dir)
    paths = sorted((d / "runs").glob("*/result.json"))
    if not paths and (d / "results.csv").is_file():
        return _read_results_csv(d / "results.csv")
    if not paths:
        raise SweepConfigError(f"{d} holds neither runs/*/result.json nor results.csv (a `ram bench` output?)")
    runs = []
    for path in paths:
        try:
            result = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # truncated by a kill: not a result
        if isinstance(result, dict) and "run" in result:
            runs.append({**result, "_dir": str(path.parent)})
    return runs


def _read_results_csv(path: Path) -> list[dict[str, Any]]:
    """The rows of a ``results.csv``, numbers as numbers (whole ones as ints) and the env keywords
    as a mapping; rows written before tracks existed get the track their algorithm's defaults have."""
    numbers = {
        "seed",
        "score",
        "error_rate",
        "steps",
        "env_steps",
        "train_seconds",
        "steps_per_second",
        "eval_episodes",
    }
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            out: dict[str, Any] = dict(row)
            for key in numbers & set(row):
                out[key] = _number(row[key])
            out["seed"] = int(out.get("seed") or 0)
            try:
                out["env_kwargs"] = json.loads(row.get("env_kwargs") or "{}")
            except json.JSONDecodeError:
                out["env_kwargs"] = {}
            if not out.get("track"):
                out["track"] = _default_track(out["algo"], out["env_id"])
            rows.append(out)
    return rows


def _number(text: str | None) -> int | float | None:
    """A CSV cell as an int (``"5001216"``), a float (``"0.9578"``) or ``None`` (empty, not a number)."""
    if text in ("", None):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


def _default_track(algo: str, env_id: str) -> str:
    """The track (``rl`` or ``privileged``) of a built-in algorithm's defaults; ``?`` for others."""
    if algo in ("ppo", "a2c", "dqn", "recurrent-ppo", "ram-rl"):
        return "rl"
    if algo in ("fc", "cnn"):
        return "privileged"
    if algo == "ram":  # its defaults: the hybrid loss on classification, plain REINFORCE on Catch
        return "rl" if "Catch" in env_id else "privileged"
    return "?"


def _mean_std(cells: list[float | None], digits: int = 3) -> str:
    """``mean ± std`` of a table cell (one value alone; ``-`` for none; blanks left out)."""
    values = [v for v in cells if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:,.{digits}f}"
    return f"{np.mean(values):,.{digits}f} ± {np.std(values):,.{digits}f}"


_COLUMNS = [
    "run",
    "algo",
    "track",
    "env_id",
    "seed",
    "status",
    "score",
    "error_rate",
    "steps",  # the budget each run was given (the sweep's steps)
    "env_steps",  # what it really took
    "train_seconds",
    "steps_per_second",
    "eval_episodes",
    "wall_seconds",
    "env_kwargs",
    "git_commit",
    "ram_gym",
    "error",
]


def summarize(
    results: list[dict[str, Any]], out: str | os.PathLike, name: str = "sweep", reps: int = stats.BOOTSTRAP_REPS
) -> None:
    """Write ``results.csv``, ``results.md`` and the pictures for ``results`` (``reps``: bootstrap
    resamples per interval).  Without rliable: one line on stderr, and a table without the IQM."""
    out = Path(out)
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in results:
            prov = r.get("provenance") or {}
            writer.writerow(
                {
                    **r,
                    "env_kwargs": json.dumps(r.get("env_kwargs") or {}, sort_keys=True, default=str),
                    "git_commit": prov.get("git_commit", r.get("git_commit")),
                    "ram_gym": prov.get("versions", {}).get("ram-gym", r.get("ram_gym")),
                }
            )
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["env_id"], r.get("track") or "?", r["algo"]), []).append(r)
    rl = stats.load_rliable(on_missing=lambda line: print(line, file=sys.stderr))
    scores = {
        key: [r["score"] for r in runs if r["status"] == "ok" and r.get("score") is not None]
        for key, runs in groups.items()
    }
    pairs = stats.improvement_pairs(scores, rl, reps) if rl is not None else []
    lines = _caption(name, rl is not None, bool(pairs), reps)
    lines += [_table_row(key, runs, rl, reps) for key, runs in sorted(groups.items())]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    _plots(results, out)
    if pairs:
        _improvement_plot(pairs, out)
    elif rl is not None:  # no two algorithms in one track now: a picture left from before is stale
        (out / "probability_of_improvement.png").unlink(missing_ok=True)


def _caption(name: str, iqm: bool, improvement: bool, reps: int) -> list[str]:
    """The title, what each column means and the table's header."""
    lines = [
        f"# {name}",
        "",
        "Score: test accuracy (classification, fixed test images) or catch rate (Catch), one per seed.",
    ]
    if iqm:
        lines += [
            "IQM: the interquartile mean of the seeds' scores (the mean of their middle 50%; of 3 seeds,",
            "their mean) with its 95% confidence interval from a stratified bootstrap over seeds",
            f"(percentile, {reps:,} resamples, seeded), as rliable computes them (Agarwal et al.,",
            "NeurIPS 2021); mean ± std over seeds beside it.",
        ]
    else:
        lines += [f"Mean ± std over seeds (no IQM: rliable is not installed; {stats.INSTALL})."]
    if improvement:
        lines += [
            "`probability_of_improvement.png`: P(X > Y), the chance that a seed of X scores above one of Y,",
            "for each pair of algorithms in one env and one track, with its 95% bootstrap interval.",
        ]
    return lines + [
        "Chance: classification: 1 / the number of classes (the env's label actions); Catch: the catch rate",
        "of a uniformly random policy (every action drawn from the env's action space, seeded) over",
        f"{stats.CHANCE_GAMES:,} seeded games with the run's env keywords, measured when this table was made.",
        'Track: *rl* learns from the reward alone; *privileged* reads `info["label"]` / `info["state"]` in',
        "training; the two are not compared. Budget: the env steps each run was given; env steps: what each",
        "run really took (runs stop at the first update past the budget).",
        "",
        "| env | track | algo | seeds ok | chance |"
        + " IQM [95% CI] |" * iqm
        + " mean ± std | budget | env steps | wall-clock (s) | steps/s |",
        "|---|---|---|---|---|" + "---|" * iqm + "---|---|---|---|---|",
    ]


def _table_row(key: tuple[str, str, str], runs: list[dict[str, Any]], rl: stats.Rliable | None, reps: int) -> str:
    """The table row of one env, track and algorithm."""
    env_id, track, algo = key
    ok = [r for r in runs if r["status"] == "ok"]
    stopped = sum(r["status"] == "interrupted" for r in runs)
    failed = len(runs) - len(ok) - stopped
    notes = [f"{failed} failed"] * bool(failed) + [f"{stopped} stopped part-way, resumable"] * bool(stopped)
    seeds = f"{len(ok)}/{len(runs)}" + (f" ({', '.join(notes)})" if notes else "")
    chance = stats.chance_level(env_id, runs[0].get("env_kwargs") or {})
    cells = [env_id, track, algo, seeds, "-" if chance is None else f"{chance:.3f}"]
    scores = [r["score"] for r in ok if r.get("score") is not None]
    if rl is not None:
        cells.append(_iqm_cell(scores, rl, reps))
    budgets = sorted({int(r["steps"]) for r in runs if r.get("steps") is not None})
    cells += [
        _mean_std(scores),
        " / ".join(f"{b:,}" for b in budgets) or "-",
        _mean_std([r.get("env_steps") for r in ok], 0),
        _mean_std([r.get("train_seconds") for r in ok], 1),
        _mean_std([r.get("steps_per_second") for r in ok], 0),
    ]
    return "| " + " | ".join(cells) + " |"


def _iqm_cell(scores: list[float], rl: stats.Rliable, reps: int) -> str:
    """``IQM [low, high]`` of a table cell (``-`` for no score)."""
    if not scores:
        return "-"
    iqm, low, high = stats.iqm_interval(scores, rl, reps)
    return f"{iqm:.3f} [{low:.3f}, {high:.3f}]"


def _plots(results: list[dict[str, Any]], out: Path) -> None:
    """``curves.png`` (training curves, mean ± std over seeds; an existing one is kept when no run
    directory holds a curve: a committed ``results.csv`` alone) and ``scores.png`` (test scores)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = sorted({r["env_id"] for r in results})
    if not envs:
        return
    curves = {
        (env_id, algo): _curves(results, out, env_id, algo) for env_id in envs for algo in _algos(results, env_id)
    }
    if any(curves.values()) or not (out / "curves.png").exists():
        fig, axes = plt.subplots(1, len(envs), figsize=(6 * len(envs), 4.5), squeeze=False)
        for ax, env_id in zip(axes[0], envs, strict=True):
            for algo in _algos(results, env_id):
                if curves[env_id, algo]:
                    _plot_curves(ax, curves[env_id, algo], algo)
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
        algos = _algos(results, env_id)
        scores = [
            [r["score"] for r in results if r["env_id"] == env_id and r["algo"] == a and r["status"] == "ok"]
            for a in algos
        ]
        means = [np.mean(s) if s else math.nan for s in scores]
        stds = [np.std(s) if s else 0 for s in scores]
        ax.bar(algos, means, yerr=stds, capsize=4, color="tab:blue", alpha=0.8)
        chance = stats.chance_level(env_id, next(r for r in results if r["env_id"] == env_id).get("env_kwargs"))
        if chance is not None:
            ax.axhline(chance, color="gray", linestyle="--", linewidth=1, label=f"chance {chance:.3f}")
            ax.legend(fontsize=8, loc="upper right")
        ax.set_ylim(0, 1)
        ax.set_title(f"{env_id}: test score (mean ± std)")
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(out / "scores.png", dpi=90)
    plt.close(fig)


def _algos(results: list[dict[str, Any]], env_id: str) -> list[str]:
    return sorted({r["algo"] for r in results if r["env_id"] == env_id})


def _curves(results: list[dict[str, Any]], out: Path, env_id: str, algo: str) -> list[np.ndarray]:
    """The ``curve.csv`` of each finished run of ``algo`` on ``env_id`` that has one, as arrays."""
    curves = []
    for r in results:
        path = Path(r.get("_dir") or out / "runs" / r["run"]) / "curve.csv"
        if r["env_id"] == env_id and r["algo"] == algo and r["status"] == "ok" and path.exists():
            data = np.genfromtxt(path, delimiter=",", skip_header=1, ndmin=2)
            data = data[np.isfinite(data[:, 1])] if data.size else data  # no finished episode yet
            if data.size:
                curves.append(data)
    return curves


def _plot_curves(ax: Any, curves: list[np.ndarray], algo: str) -> None:
    """Mean ± std over seeds of ``algo``'s training curves (smoothed) up to the shortest one."""
    top = min(c[-1, 0] for c in curves)
    grid = np.linspace(0, top, 50)
    ys = np.array([np.interp(grid, c[:, 0], _running_mean(c[:, 1])) for c in curves])
    mean, std = ys.mean(0), ys.std(0)
    ax.plot(grid, mean, label=f"{algo} ({len(curves)} seeds)")
    ax.fill_between(grid, mean - std, mean + std, alpha=0.2)


def _improvement_plot(pairs: list[stats.Pair], out: Path) -> None:
    """``probability_of_improvement.png``: per env, P(X > Y) of each pair in one track, 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = sorted({p[0] for p in pairs})
    most = max(sum(p[0] == env_id for p in pairs) for env_id in envs)
    fig, axes = plt.subplots(1, len(envs), figsize=(6.5 * len(envs), 1.2 + 0.42 * most), squeeze=False)
    colours = {"rl": "tab:blue", "privileged": "tab:orange"}
    for ax, env_id in zip(axes[0], envs, strict=True):
        rows = [p for p in pairs if p[0] == env_id]
        y = np.arange(len(rows))[::-1]
        for yi, (_, track, _, _, p, low, high) in zip(y, rows, strict=True):
            ax.plot([low, high], [yi, yi], color=colours.get(track, "tab:gray"), linewidth=7, alpha=0.45)
            ax.plot([p], [yi], marker="|", markersize=16, markeredgewidth=2, color="black")
        ax.set_yticks(y, [f"{x} > {other}  ({track})" for _, track, x, other, *_ in rows], fontsize=8)
        ax.axvline(0.5, color="gray", linestyle="--", linewidth=1)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel("P(X > Y): a seed of X scores above one of Y (95% bootstrap CI)")
        ax.set_title(env_id)
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(out / "probability_of_improvement.png", dpi=90)
    plt.close(fig)


def _running_mean(y: np.ndarray, window: int = 10) -> np.ndarray:
    """A trailing mean over ``window`` points (over the points so far at the start); NaN as 0."""
    y = np.nan_to_num(y)
    if len(y) < window:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    head = c[1:window] / np.arange(1, window)
    return np.concatenate([head, (c[window:] - c[:-window]) / window])
