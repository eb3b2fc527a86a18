"""Time to accuracy: test error against training wall-clock for one RAM run.

Trains a RAM recipe under a wall-clock budget (``ram train --time-budget``: the learning
rate schedule is fitted to the steps this machine manages, so the run ends decayed on
time), saves the weights every ``--every`` seconds of training, then scores each snapshot
and the final model on the whole test split (deterministic fixations, one sample).  The
scoring happens after training, so it takes none of the budget.

    python benchmarks/time_to_accuracy.py [--env RAM-MNIST-v0] [--config ram_mnist] [--minutes 10]
        [--every 60] [--out runs/time-to-accuracy] [--threads N] [--set KEY=VALUE ...] [--env-arg KEY=VALUE ...]

Prints a table (minutes of training, env steps, test error) and writes it with a plot to
``OUT/curve.csv``, ``OUT/curve.json`` (what was trained, where) and ``OUT/curve.png``, the
paper's error for the task drawn as a line.  Run it on an otherwise idle machine, or compare
runs that shared the machine alike.  Several finished runs in one picture:

    python benchmarks/time_to_accuracy.py --compare OUT [OUT ...] --plot PNG [--title TEXT]
"""

from __future__ import annotations

import argparse
import csv
import json
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

#: the paper's test error per task (Mnih et al. 2014, Tables 1 and 2: the RAM's best)
PAPER_ERROR = {
    "RAM-MNIST-v0": 0.0112,
    "RAM-TranslatedMNIST-v0": 0.0120,
    "RAM-ClutteredMNIST-v0": 0.0404,
    "RAM-ClutteredMNIST100-v0": 0.0811,
}


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
    parser.add_argument("--compare", nargs="+", metavar="OUT", help="plot these finished runs together; train nothing")
    parser.add_argument("--plot", default=None, help="with --compare: the picture to write")
    parser.add_argument("--title", default=None, help="with --compare: the picture's title")
    args = parser.parse_args()
    if args.compare:
        if not args.plot:
            parser.error("--compare needs --plot PNG (the picture to write)")
        try:
            compare([Path(run) for run in args.compare], Path(args.plot), args.title)
        except ValueError as err:
            parser.error(str(err))
        return
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
    changes = " ".join([*args.set, *(f"env {arg}" for arg in args.env_arg)])
    header = {
        "env": args.env,
        "label": f"{args.config} {changes}".strip(),
        "minutes": args.minutes,
        "seed": args.seed,
        "finished": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {threads} torch threads",
    }
    (out / "curve.json").write_text(json.dumps(header, indent=2) + "\n")
    print(f"# time_to_accuracy  {header['finished']}  {header['machine']}  {args.env}  config {header['label']}")
    print(f"#   budget {args.minutes:g} min")
    print("| training minutes | env steps | test error (deterministic, 1 sample) |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row['minutes']:.2f} | {row['env_steps']:,} | {100 * row['test_error']:.2f}% |")
    draw([(header["label"], rows)], args.env, out / "curve.png", f"{args.env}, {args.minutes:g}-minute budget")


def read_run(out: Path) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """``(header, rows)`` of a finished run's ``curve.json`` and ``curve.csv``."""
    if not (out / "curve.csv").is_file() or not (out / "curve.json").is_file():
        raise ValueError(f"{str(out)!r} is not a finished time-to-accuracy run (no curve.csv and curve.json in it)")
    try:
        header = json.loads((out / "curve.json").read_text())
        with open(out / "curve.csv", newline="") as f:
            rows = [
                {key: float(row[key]) for key in ("minutes", "env_steps", "test_error")} for row in csv.DictReader(f)
            ]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{str(out)!r}: unreadable curve.json or curve.csv ({type(err).__name__}: {err})") from err
    if not isinstance(header, dict) or not {"env", "label", "seed"} <= header.keys() or not rows:
        raise ValueError(f"{str(out)!r}: curve.json lacks env, label or seed, or curve.csv has no rows")
    return header, rows


def compare(runs: list[Path], path: Path, title: str | None) -> None:
    """One picture of the finished ``runs`` (all on one env) and a table of their points."""
    read = [read_run(run) for run in runs]
    envs = sorted({header["env"] for header, _ in read})
    if len(envs) != 1:
        raise ValueError(f"--compare takes runs on one env; these are on {envs}")
    curves = [(f"{header['label']} (seed {header['seed']})", rows) for header, rows in read]
    print("| run | directory | minutes | env steps | final test error | lowest |")
    print("|---|---|---|---|---|---|")
    for (label, rows), run in zip(curves, runs, strict=True):
        best = min(rows, key=lambda row: row["test_error"])
        print(
            f"| {label} | {run} | {rows[-1]['minutes']:.1f} | {int(rows[-1]['env_steps']):,} | "
            f"{100 * rows[-1]['test_error']:.2f}% | {100 * best['test_error']:.2f}% at {best['minutes']:.1f} min |"
        )
    draw(curves, envs[0], path, title or f"{envs[0]}: test error against training time")
    print(f"wrote {path}")


def draw(curves: list[tuple[str, list[dict[str, Any]]]], env: str, path: Path, title: str) -> None:
    """Test error (%) against training minutes, one line per curve, the paper's error dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for label, rows in curves:
        ax.plot([r["minutes"] for r in rows], [100 * r["test_error"] for r in rows], marker="o", label=label)
    if env in PAPER_ERROR:
        paper = 100 * PAPER_ERROR[env]
        ax.axhline(paper, color="grey", linestyle="--", linewidth=0.8, label=f"the paper's RAM, {paper:.2f}%")
    ax.set_xlabel("training wall-clock (minutes)")
    ax.set_ylabel("test error (%)")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))  # 20, not 2 x 10^1
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda y, _: f"{y:g}" if f"{y:g}"[0] in "2345" else ""))
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
