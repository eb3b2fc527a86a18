"""Time to accuracy: test error against training wall-clock for one RAM run.

Trains a RAM recipe under a wall-clock budget (``ram train --time-budget``: the learning
rate schedule is fitted to the steps this machine manages, so the run ends decayed on
time), saves the weights every ``--every`` seconds of training, then scores each snapshot
and the final model on the whole test split (deterministic fixations, one sample).  The
scoring happens after training, so it takes none of the budget.

    python benchmarks/time_to_accuracy.py [--env RAM-MNIST-v0] [--config ram_mnist] [--minutes 10]
        [--every 60] [--out runs/time-to-accuracy] [--threads N] [--set KEY=VALUE ...] [--env-arg KEY=VALUE ...]

Prints a table (minutes of training, env steps, test error) and writes it with a plot to
``OUT/curve.csv`` and ``OUT/curve.png``.  Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from agents.cli import hparams_from, unknown_env_error
from agents.evaluation import evaluate
from agents.ram import RAM
from agents.threads import use_free_cores
from agents.training import train


class Snapshots:
    """A training callback that saves the weights every ``every`` seconds of training into
    ``directory/snapshot-NNNN.pt`` and remembers ``(seconds, env steps, path)`` of each."""

    def __init__(self, agent: RAM, directory: Path, every: float) -> None:
        self.agent, self.directory, self.every = agent, directory, float(every)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.started = time.perf_counter()
        self.taken: list[tuple[float, int, Path]] = []

    def __call__(self, metrics: dict[str, float]) -> bool:
        elapsed = time.perf_counter() - self.started
        if elapsed >= self.every * (len(self.taken) + 1):
            path = self.directory / f"snapshot-{len(self.taken) + 1:04d}.pt"
            self.agent.save(path, weights_only=True)
            self.taken.append((elapsed, int(metrics["env_steps"]), path))
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="RAM-MNIST-v0")
    parser.add_argument("--config", default="ram_mnist", help="a shipped RAM recipe or a YAML file")
    parser.add_argument("--minutes", type=float, default=10.0, help="wall-clock budget of the training")
    parser.add_argument("--every", type=float, default=60.0, help="seconds of training between snapshots")
    parser.add_argument("--out", default="runs/time-to-accuracy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the idle cores)")
    parser.add_argument("--eval-episodes", type=int, default=None, help="test images to score (default: all)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="one RAMConfig field")
    parser.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE", help="one env keyword")
    args = parser.parse_args()
    if not args.minutes > 0 or not args.every > 0:
        raise SystemExit("--minutes and --every must be > 0")
    if (unknown := unknown_env_error(args.env)) is not None:
        parser.error(unknown)
    threads = use_free_cores(args.threads)
    out = Path(args.out)
    try:
        hparams = hparams_from("ram", args.config, args.set, args.env_arg)
        agent = RAM(args.env, seed=args.seed, **hparams)
    except ValueError as err:  # a bad setting or env keyword, named
        parser.error(str(err))
    snapshots = Snapshots(agent, out / "snapshots", args.every)
    outcome = train(agent, out, 10**10, time_budget=args.minutes, tensorboard=False, seed=args.seed, callback=snapshots)
    trained = time.perf_counter() - snapshots.started
    assert outcome.model is not None, "a time-budgeted run ends finished"
    taken = [t for t in snapshots.taken if t[1] < agent.num_timesteps]  # the final model is scored below
    points = [*taken, (trained, agent.num_timesteps, outcome.model)]
    rows = []
    for seconds, steps, path in points:
        model = RAM.load(path, env_id=args.env)
        error = evaluate(model, n_episodes=args.eval_episodes).error
        rows.append({"minutes": round(seconds / 60, 3), "env_steps": steps, "test_error": round(error, 5)})
    with open(out / "curve.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(
        f"# time_to_accuracy  {time.strftime('%Y-%m-%d %H:%M')}  {platform.machine()}  {os.cpu_count()} cores  "
        f"torch {torch.__version__}  {threads} torch threads  {args.env}  config {args.config}"
        + (f" {' '.join(args.set)}" if args.set else "")
        + (f" env {' '.join(args.env_arg)}" if args.env_arg else "")
        + f"  budget {args.minutes:g} min"
    )
    print("| training minutes | env steps | test error (deterministic, 1 sample) |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row['minutes']:.2f} | {row['env_steps']:,} | {100 * row['test_error']:.2f}% |")
    plot(rows, out / "curve.png", f"{args.env}, {args.config}, {args.minutes:g}-minute budget")


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """Test error (%) against training minutes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([r["minutes"] for r in rows], [100 * r["test_error"] for r in rows], marker="o")
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=0.8, label="1.0% target")
    ax.set_xlabel("training wall-clock (minutes)")
    ax.set_ylabel("test error (%)")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
