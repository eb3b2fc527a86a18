"""The RAM recipe study on RAM-ClutteredMNIST-v0: one change at a time, the same budget.

Each variant changes one thing of today's recipe (``agents/ram/recipes/ram_cluttered.yaml``)
and is trained for the same number of env steps with one torch thread, for each seed, by
``ram train``; the whole 10,000-image test split is then scored (deterministic, one sample).
Runs that finished are skipped and interrupted ones resumed, so the study can be stopped
and started again.  The table (test error, training accuracy over the last 50 updates,
wall-clock, env steps) is written to ``--table`` after every run.

    python benchmarks/clutter_study.py --steps 10000000 --seeds 0 1

Each run's summary (``eval.json``, ``config.json``, ``progress.csv``) is committed under
``benchmarks/results/clutter_study/``, so a later session continues the study where it stopped.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
from pathlib import Path

BASE = "agents/ram/recipes/ram_cluttered.yaml"
ENV = "RAM-ClutteredMNIST-v0"

#: variant -> (what it changes, ``--set`` / ``--env-arg`` arguments)
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "base": ("today's recipe (ram_cluttered.yaml)", []),
    "m8": ("8 rollouts of each image per update (32 images x 8)", ["--set", "rollouts_per_image=8"]),
    "grad-core": (
        "REINFORCE and baseline gradients reach the core",
        ["--set", "location_grad_to_core=true", "--set", "baseline_grad_to_core=true"],
    ),
    "lstm": ("LSTM core of 256", ["--set", "core=lstm"]),
    "clip5": ("gradient clipping at global norm 5", ["--set", "max_grad_norm=5"]),
    "center": ("first fixation at the centre", ["--env-arg", "initial_location=center"]),
    "linear": ("linear location mean (env clips)", ["--set", "location_mean=linear"]),
    "first-none": (
        "no first glimpse: the location network chooses all 8 fixations",
        ["--env-arg", "initial_location=none"],
    ),
    "batch64": ("64 episodes per update (4x the updates for the same env steps)", ["--set", "num_envs=64"]),
    "m8-256img": (
        "8 rollouts of each of 256 images per update (2,048 episodes; as many images as base)",
        ["--set", "rollouts_per_image=8", "--set", "num_envs=2048"],
    ),
    # the paper's first extension: the agent may stop early, each glimpse after the first costs c
    **{
        f"stop-{c}": (
            f"may stop early, glimpse cost {c}",
            ["--env-arg", "allow_stop=true", "--env-arg", f"glimpse_cost={c}"],
        )
        for c in ("0.003", "0.01", "0.03")
    },
    # fixed-length episodes of fewer glimpses, beside the early-stopping models
    **{f"fixed-{n}": (f"{n} glimpses per episode (fixed)", ["--env-arg", f"n_glimpses={n}"]) for n in (4, 6)},
    # the paper's second extension: the location policy also chooses each glimpse's scale
    "zoom": (
        "chooses each glimpse's scale: finest patch 6..24 px (zoom=(6, 24); fixed: 12)",
        ["--env-arg", "zoom=[6, 24]"],
    ),
}


def run(variant: str, seed: int, steps: int, out: Path, extra: list[str]) -> Path:
    run_dir = out / f"{variant}-s{seed}"
    if (run_dir / "eval.json").exists():
        return run_dir
    cmd = [sys.executable, "-m", "agents.cli", "train", "--env", ENV, "--config", BASE, "--seed", str(seed)]
    cmd += ["--steps", str(steps), "--threads", "1", "--no-progress", "--no-tensorboard", "--out", str(run_dir)]
    cmd += ["--checkpoint-every", "50"]
    if (run_dir / "checkpoint.pt").exists():
        cmd.append("--resume")
    cmd += VARIANTS[variant][1] + extra
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return run_dir


def summary(run_dir: Path) -> dict[str, float] | None:
    if not (run_dir / "eval.json").exists():
        return None
    result = json.loads((run_dir / "eval.json").read_text())
    with open(run_dir / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    last = rows[-50:]
    return {
        "error": 100 * float(result["error"]),
        "train_acc": 100 * statistics.fmean(float(r["accuracy"]) for r in last),
        "seconds": float(rows[-1]["time"]),
        "steps": float(rows[-1]["env_steps"]),
        "glimpses": float(result.get("mean_glimpses") or fixed_length(run_dir)),
    }


def fixed_length(run_dir: Path) -> int:
    """Glimpses per episode of a run without early stopping: its ``n_glimpses`` (8 by default)."""
    config = json.loads((run_dir / "config.json").read_text())
    return int(config.get("config", {}).get("env_kwargs", {}).get("n_glimpses", 8))


def table(out: Path, seeds: list[int], steps: int) -> str:
    lines = [
        f"Budget {steps:,} env steps per run, one torch thread, {ENV}; test error on the whole "
        "10,000-image test split (deterministic, one sample); training accuracy: mean of the last 50 "
        "updates' batches.",
        "",
        "| variant | change | test error per seed | mean | glimpses per episode | training accuracy "
        "| wall-clock per run | env steps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (change, _) in VARIANTS.items():
        got = [s for s in (summary(out / f"{name}-s{seed}") for seed in seeds) if s is not None]
        if not got:
            lines.append(f"| {name} | {change} | (not run yet) | | | | | |")
            continue
        errors = " / ".join(f"{g['error']:.2f}%" for g in got)
        lines.append(
            f"| {name} | {change} | {errors} | {statistics.fmean(g['error'] for g in got):.2f}% | "
            f"{statistics.fmean(g['glimpses'] for g in got):.2f} | "
            f"{statistics.fmean(g['train_acc'] for g in got):.1f}% | "
            f"{statistics.fmean(g['seconds'] for g in got):.0f} s | {statistics.fmean(g['steps'] for g in got):,.0f} |"
        )
    return "\n".join(lines) + "\n"


def stop_figure(out: Path, seed: int, path: Path) -> Path:
    """Test error against mean glimpses per episode: the early-stopping runs (one point per
    glimpse cost) beside the fixed-length ones (4, 6 and 8 glimpses) -> PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for prefix, marker, label in (("fixed-", "s", "fixed length"), ("stop-", "o", "may stop (glimpse cost)")):
        names = [n for n in VARIANTS if n.startswith(prefix)] + (["base"] if prefix == "fixed-" else [])
        points = [(n, summary(out / f"{n}-s{seed}")) for n in names]
        got = sorted(((n, p) for n, p in points if p is not None), key=lambda np_: np_[1]["glimpses"])
        if not got:
            continue
        ax.plot([p["glimpses"] for _, p in got], [p["error"] for _, p in got], marker=marker, label=label)
        for name, p in got:
            text = name.removeprefix("stop-") if prefix == "stop-" else f"{p['glimpses']:.0f}"
            ax.annotate(text, (p["glimpses"], p["error"]), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel("glimpses per test episode (mean)")
    ax.set_ylabel("test error, % (10,000 images)")
    steps = summary(out / f"base-s{seed}")
    budget = f", {steps['steps'] / 1e6:.0f}M env steps each" if steps else ""
    ax.set_title(f"{ENV}: stopping early\n(RAM, ram_cluttered recipe, seed {seed}{budget})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000_000, help="env steps per run (10M)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument(
        "--out", default="benchmarks/results/clutter_study", help="run directories (their summaries are committed)"
    )
    parser.add_argument("--table", default="benchmarks/results/clutter_study/table.md", help="markdown table file")
    parser.add_argument("--stop-figure", type=Path, default=None, help="draw the early-stopping figure (PNG) and exit")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.stop_figure is not None:
        print("wrote", stop_figure(out, args.seeds[0], args.stop_figure))
        return 0
    table_path = Path(args.table)
    table_path.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:  # every variant once before the second seed
        for variant in args.variants:
            run(variant, seed, args.steps, out, [])
            table_path.write_text(table(out, args.seeds, args.steps))
    print(table_path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
