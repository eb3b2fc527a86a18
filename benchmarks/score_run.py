"""Score RAM training runs the way benchmarks/RESULTS.md reports them: one table row per set of
weights of each run (its last weights and, when it trained with ``weight_average``, their moving
average), with the figures RESULTS.md's run tables give.

    python benchmarks/score_run.py runs/final-translated-std015-ema runs/final-translated-std020-ema
    python benchmarks/score_run.py runs/RUN --checkpoint          # a run in progress (checkpoint.pt)
    python benchmarks/score_run.py runs/RUN --summary benchmarks/results/RUN   # also keep a summary

Columns: env steps and training time of all the training behind the run (a run started
``--init-from`` counts its parent's, as ``benchmarks/ship_pretrained.py`` does); test error on
the whole fixed test split, deterministic fixations, one sample (the paper's protocol, what
``ram eval`` prints); the same with sampled fixations; the majority vote of ``--mc-samples``
stochastic passes; the validation error (deterministic); and the training batches' accuracy,
the mean of the last 200 updates in ``progress.csv`` (the last weights, sampled fixations).
With ``--checkpoint`` the env steps are the checkpoint's and the training time is that of the
last row of ``progress.csv`` (at most ``--checkpoint-every`` updates later).
Choose between a run's weights by the validation column, never by the test one.

``--summary DIR`` (one run) writes what ``benchmarks/results/<run>/`` keeps of a finished run:
``config.json``, ``eval.json`` (each set of weights: every figure of its row) and every 10th row
of ``progress.csv`` (and its last).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from agents.checkpoint import CheckpointError
from agents.evaluation import evaluate
from agents.ram import RAM
from agents.training import CHECKPOINT, FINAL, RunDirectoryError, run_history

TRAINING_ROWS = 200  #: updates averaged for the training-batch accuracy


@dataclass
class Row:
    """One set of weights of one run, scored."""

    run: str
    weights: str  #: "last" or "averaged"
    env_steps: int
    seconds: int
    test: float
    stochastic: float
    vote: float
    validation: float
    training: float | None  #: accuracy of the last training batches (last weights only)

    def markdown(self) -> str:
        training = "-" if self.training is None else f"{100 * self.training:.1f}%"
        cells = [
            self.run,
            self.weights,
            f"{self.env_steps:,}",
            f"{self.seconds:,} s ({self.seconds / 3600:.2f} h)",
            f"{100 * self.test:.2f}%",
            f"{100 * self.stochastic:.2f}%",
            f"{100 * self.vote:.2f}%",
            f"{100 * self.validation:.2f}%",
            training,
        ]
        return "| " + " | ".join(cells) + " |"


def header(mc_samples: int, episodes: int | None) -> str:
    images = "whole split" if episodes is None else f"first {episodes:,} images"
    names = [
        "run",
        "weights",
        "env steps",
        "training time",
        f"test error, deterministic, 1 sample ({images})",
        "stochastic, 1 sample",
        f"majority of {mc_samples} stochastic samples",
        "validation error",
        f"training batches (last {TRAINING_ROWS} updates)",
    ]
    return "| " + " | ".join(names) + " |\n|" + "---|" * len(names)


def progress_rows(run: Path) -> list[dict[str, str]]:
    """The rows of ``run/progress.csv`` (``RunDirectoryError`` if it has none)."""
    with open(run / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise RunDirectoryError(f"{run}/progress.csv has no rows")
    return rows


def training_accuracy(rows: list[dict[str, str]], run: Path) -> float:
    """Mean ``accuracy`` of the last :data:`TRAINING_ROWS` progress rows of ``run``."""
    if "accuracy" not in rows[0]:
        raise RunDirectoryError(f"{run}/progress.csv has no accuracy column: not a classification run")
    last = rows[-TRAINING_ROWS:]
    return sum(float(r["accuracy"]) for r in last) / len(last)


def score(run: Path, checkpoint: bool, mc_samples: int, episodes: int | None) -> tuple[list[Row], list[dict]]:
    """The rows of ``run`` (its last weights, then their average if it has one) and each
    set's evaluations as dicts (for ``eval.json``)."""
    path = run / (CHECKPOINT if checkpoint else FINAL)
    _, seconds, steps = run_history(run)
    progress = progress_rows(run)
    training = training_accuracy(progress, run)
    rows, evals = [], []
    for averaged in (False, True):
        agent = RAM.load(path, averaged=averaged)
        if checkpoint and not averaged:  # progress.csv may run up to checkpoint_every updates past it
            steps -= int(float(progress[-1]["env_steps"])) - agent.num_timesteps
        results = {
            "test": evaluate(agent, n_episodes=episodes),
            "stochastic": evaluate(agent, n_episodes=episodes, deterministic=False),
            "vote": evaluate(agent, n_episodes=episodes, mc_samples=mc_samples),
            "validation": evaluate(agent, split="validation", n_episodes=episodes),
        }
        weights = "averaged" if averaged else "last"
        rows.append(
            Row(
                run.name,
                weights,
                steps,
                seconds,
                *(r.error for r in results.values()),
                training=None if averaged else training,
            )
        )
        evals.append({"weights": weights, "file": str(path), **{k: r.as_dict() for k, r in results.items()}})
        if agent.averaged_weights is None:  # trained without weight_average: one set only
            break
    return rows, evals


def write_summary(run: Path, out: Path, evals: list[dict]) -> None:
    """``config.json``, ``eval.json`` and every 10th row of ``progress.csv`` of ``run`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run / "config.json", out / "config.json")
    (out / "eval.json").write_text(json.dumps(evals, indent=2) + "\n")
    with open(run / "progress.csv", newline="") as f:
        lines = f.read().splitlines()
    head, body = lines[0], lines[1:]
    kept = [row for i, row in enumerate(body) if i % 10 == 0 or i == len(body) - 1]
    (out / "progress_every10th.csv").write_text("\n".join([head, *kept]) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+", help="`ram train` run directories (RAM, classification)")
    parser.add_argument("--checkpoint", action="store_true", help="score checkpoint.pt (a run in progress)")
    parser.add_argument("--mc-samples", type=int, default=5, help="stochastic passes of the majority vote (5)")
    parser.add_argument("--episodes", type=int, default=None, help="only the first N images of each split")
    parser.add_argument("--summary", type=Path, default=None, help="write a summary of the (one) run here")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    args = parser.parse_args(argv)
    if args.summary is not None and len(args.runs) != 1:
        parser.error("--summary takes one run")
    if args.mc_samples < 2:
        parser.error(f"--mc-samples must be >= 2 (a vote), got {args.mc_samples}")
    torch.set_num_threads(args.threads)
    for run in args.runs:  # every file there before any work
        path = run / (CHECKPOINT if args.checkpoint else FINAL)
        if not path.exists():
            hint = " (not finished: score its checkpoint with --checkpoint)" if (run / CHECKPOINT).exists() else ""
            print(f"score_run: {path} does not exist{hint}", file=sys.stderr)
            return 2
    print(header(args.mc_samples, args.episodes))
    for run in args.runs:
        try:
            rows, evals = score(run, args.checkpoint, args.mc_samples, args.episodes)
        except (RunDirectoryError, CheckpointError, ValueError) as err:
            print(f"score_run: {err}", file=sys.stderr)
            return 2
        for row in rows:
            print(row.markdown(), flush=True)
        if args.summary is not None:
            write_summary(run, args.summary, evals)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
