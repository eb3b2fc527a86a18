"""RAM recipe studies: one change at a time from a shipped recipe, the same budget.

Each variant changes one thing of a study's base recipe and is trained for the same number of
env steps with one torch thread, for each seed, by ``ram train``; the whole 10,000-image test
split is then scored (deterministic, one sample).  Runs that finished are skipped and
interrupted ones resumed, so a study can be stopped and started again.  The table (test
error, training accuracy over the last 50 updates, wall-clock, env steps) is written to
``--table`` after every run.  The studies:

- ``clutter``: RAM-ClutteredMNIST-v0 from ``ram_cluttered.yaml`` - what the public
  re-implementations with good clutter figures do differently;
- ``mnist-fast``: RAM-MNIST-v0 from ``ram_mnist.yaml`` - what learns the most from a
  10-minute budget of env steps (time to accuracy).

    python benchmarks/recipe_study.py --study clutter --steps 10000000 --seeds 0 1
    python benchmarks/recipe_study.py --study mnist-fast --steps 15000000 --seeds 0

Each finished run's summary (``eval.json``, ``config.json``, ``progress.csv`` thinned by
``benchmarks/thin_results.py``) is committed under ``benchmarks/results/<study>_study/``, so a
study run again from a clone skips the runs that finished.  A third study, ``translated``, varies the
shipped RAM-TranslatedMNIST-v0 recipe (``ram_translated_lstm.yaml``) the same way:

    python benchmarks/recipe_study.py --study translated --steps 15000000 --seeds 0

A fourth, ``clutter100``, varies the shipped RAM-ClutteredMNIST100-v0 recipe
(``ram_cluttered100_lstm.yaml``), whose errors are mostly digits never found
(``benchmarks/fixation_errors.py``), in how widely the location policy explores and in how
many glimpses an episode has:

    python benchmarks/recipe_study.py --study clutter100 --steps 10000000 --seeds 0

A fifth, ``estimators``, gives the location policy more information per episode, one change at
a time from the same recipe (a warm start on random fixations, the classifier's log-likelihood as
a dense or final reward, a leave-one-out or greedy baseline over 4 rollouts per image, a
convolutional glimpse network, max-pooled coarser scales, glimpse prediction, a critic trained into
the core, more updates of fewer episodes), and scores the validation split every 4M env steps (``validation.csv``) to
compare validation error against training time:

    python benchmarks/recipe_study.py --study estimators --steps 40000000 --seeds 0 --out runs/estimators_study

``estimators-conv`` makes the same changes on top of the best one, the convolutional glimpse
network (``ram_cluttered100_conv.yaml``), and ``estimators-60`` makes them on RAM-ClutteredMNIST-v0
to confirm them there.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Study:
    """One recipe study: the env, the base recipe and the variants of it."""

    env: str
    base: str
    #: variant -> (what it changes, ``--set`` / ``--env-arg`` arguments)
    variants: dict[str, tuple[str, list[str]]]
    #: glimpses per episode of the env's default (for runs without ``n_glimpses``)
    glimpses: int = 8
    #: env steps between validation scores (``validation.csv`` in each run; ``None``: none)
    validate_every: int | None = None
    #: what the table's score is and what it is measured on
    scored: str = "test error on the whole 10,000-image test split"


def fixed_glimpses(*counts: int) -> dict[str, tuple[str, list[str]]]:
    """Variants ``fixed-N``: episodes of N glimpses instead of the env's default."""
    return {f"fixed-{n}": (f"{n} glimpses per episode (fixed)", ["--env-arg", f"n_glimpses={n}"]) for n in counts}


CLUTTER = Study(
    env="RAM-ClutteredMNIST-v0",
    base="agents/ram/recipes/ram_cluttered.yaml",
    variants={
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
        **fixed_glimpses(4, 6),
        # the paper's second extension: the location policy also chooses each glimpse's scale
        "zoom": (
            "chooses each glimpse's scale: finest patch 6..24 px (zoom=(6, 24); fixed: 12)",
            ["--env-arg", "zoom=[6, 24]"],
        ),
    },
)

MNIST_FAST = Study(
    env="RAM-MNIST-v0",
    base="agents/ram/recipes/ram_mnist.yaml",
    glimpses=6,
    variants={
        "base": ("today's recipe (ram_mnist.yaml)", []),
        "center": ("first fixation at the centre", ["--env-arg", "initial_location=center"]),
        "lr3e-3": ("learning rate 3e-3 (cosine to 2%)", ["--set", "learning_rate=0.003"]),
        "batch128": ("128 episodes per update (2x the updates)", ["--set", "num_envs=128"]),
        "lstm": ("LSTM core of 256", ["--set", "core=lstm"]),
        "std0.05": ("location std 0.05", ["--set", "location_std=0.05"]),
        "std0.2": ("location std 0.2", ["--set", "location_std=0.2"]),
    },
)

TRANSLATED = Study(
    env="RAM-TranslatedMNIST-v0",
    base="agents/ram/recipes/ram_translated_lstm.yaml",
    variants={
        "base": ("the shipped recipe (ram_translated_lstm.yaml: LSTM core, centre start)", []),
        "batch128": ("128 episodes per update (2x the updates for the same env steps)", ["--set", "num_envs=128"]),
        "batch64": ("64 episodes per update (4x the updates for the same env steps)", ["--set", "num_envs=64"]),
        "std0.05": ("location std 0.05", ["--set", "location_std=0.05"]),
        "std0.15": ("location std 0.15", ["--set", "location_std=0.15"]),
        "hidden512": ("LSTM core of 512", ["--set", "hidden_size=512"]),
    },
)

CLUTTER100 = Study(
    env="RAM-ClutteredMNIST100-v0",
    base="agents/ram/recipes/ram_cluttered100_lstm.yaml",
    variants={
        "base": ("the shipped recipe (ram_cluttered100_lstm.yaml: LSTM core, centre start, std 0.1)", []),
        **{f"std{v}": (f"location std {v}", ["--set", f"location_std={v}"]) for v in ("0.15", "0.2", "0.3", "0.5")},
        # the clutter study's best single change at 10M steps: fewer glimpses, so more images per env step
        **fixed_glimpses(4, 6),
        # the two that helped, combined
        "fixed-4-std0.2": (
            "4 glimpses per episode and location std 0.2",
            ["--env-arg", "n_glimpses=4", "--set", "location_std=0.2"],
        ),
    },
)

#: the estimator study's changes, each a few ``--set`` / ``--env-arg`` away from a recipe
ESTIMATOR_CHANGES: dict[str, tuple[str, list[str]]] = {
    "warm": (
        "warm start: 4M env steps of uniform random fixations, cross-entropy only",
        ["--set", "warm_start_steps=4000000"],
    ),
    "dense": ("dense reward: log p_{t+1}(y) - log p_t(y) per glimpse", ["--set", "location_reward=dense"]),
    "loglik": ("final reward log p_T(y) instead of 0/1", ["--set", "location_reward=log_likelihood"]),
    "loo4": (
        "4 rollouts per image (64 images x 4), leave-one-out baseline",
        ["--set", "rollouts_per_image=4", "--set", "critic=leave_one_out"],
    ),
    "conv": ("convolutional glimpse network", ["--set", "glimpse_network=conv"]),
    "greedy4": (
        "4 rollouts per image, the greedy one the baseline of the other 3 (self-critical)",
        ["--set", "rollouts_per_image=4", "--set", "critic=self_critical"],
    ),
    "max": ("max-pooled coarser retina scales", ["--env-arg", "retina_reduction=max"]),
    # what taught Catch from the reward alone, on clutter
    "predict": (
        "glimpse prediction: a head on h_t and the chosen fixation predicts the next glimpse",
        ["--set", "glimpse_prediction_weight=1"],
    ),
    "critic-core": (
        "the baseline's regression trains the core too (a critic on h_t), GAE lambda 0.95",
        ["--set", "baseline_grad_to_core=true", "--set", "gae_lambda=0.95"],
    ),
    "b128": ("128 episodes per update (twice the updates for the same env steps)", ["--set", "num_envs=128"]),
}


def estimator_study(env: str, recipe: str, described: str, leave_out: str = "") -> Study:
    """The estimator study's changes, one at a time, from ``agents/ram/recipes/<recipe>.yaml``
    (``described``) on ``env`` (without the change ``leave_out``, which the recipe already has),
    scored on the validation split every 4M env steps."""
    changes = {name: change for name, change in ESTIMATOR_CHANGES.items() if name != leave_out}
    return Study(
        env=env,
        base=f"agents/ram/recipes/{recipe}.yaml",
        validate_every=4_000_000,
        variants={"base": (f"{recipe}.yaml: {described}", []), **changes},
    )


#: the estimator study: what gives the location policy more information per episode, one change
#: at a time from the shipped RAM-ClutteredMNIST100-v0 recipe, compared as validation error
#: against training time
ESTIMATORS = estimator_study(
    "RAM-ClutteredMNIST100-v0", "ram_cluttered100_lstm", "the study's start (LSTM core, centre start, std 0.1)"
)

#: its second round: the other changes on top of its best one so far, the convolutional glimpse network
ESTIMATORS_CONV = estimator_study(
    "RAM-ClutteredMNIST100-v0",
    "ram_cluttered100_conv",
    "ram_cluttered100_lstm with a convolutional glimpse network",
    leave_out="conv",
)

#: the estimator study's changes on RAM-ClutteredMNIST-v0 (60x60), to confirm them
ESTIMATORS_60 = estimator_study(
    "RAM-ClutteredMNIST-v0", "ram_cluttered_lstm", "the shipped recipe (LSTM core, centre start, std 0.1)"
)

#: Catch from the reward alone: the rl-track recipe (ram_catch_rl.yaml) with one of its changes
#: undone at a time, and today's rl settings (all of them undone), scored every 2M env steps on
#: 1,000 validation games (other seeds than the test games)
CATCH_RL = Study(
    env="RAM-Catch-v0",
    base="agents/ram/recipes/ram_catch_rl.yaml",
    validate_every=1_000_000,
    glimpses=23,  # one per move until the ball lands
    scored="games missed of 1,000 seeded test games (validation: 1,000 other games)",
    variants={
        "recipe": (
            "ram_catch_rl.yaml: max-pooled retina, critic on h_t into the core (weight 23, GAE 0.95), "
            "glimpse prediction",
            [],
        ),
        "no-predict": ("without the glimpse prediction", ["--set", "glimpse_prediction_weight=0"]),
        "no-critic": ("the baseline reads a detached h_t (the paper's)", ["--set", "baseline_grad_to_core=false"]),
        "mean-retina": ("averaged coarser scales (the paper's retina)", ["--env-arg", "retina_reduction=mean"]),
        "lambda0.5": ("GAE lambda 0.5 (the privileged recipe's)", ["--set", "gae_lambda=0.5"]),
        "lambda1": ("GAE lambda 1: the paper's R - b_t", ["--set", "gae_lambda=1.0"]),
        "baseline1": ("baseline weight 1 (per episode: 1/23 per step)", ["--set", "baseline_weight=1.0"]),
        "before": (
            "all undone: the reference sweep's ram-rl (ram_catch without its state critic and decoder)",
            ["--set", "glimpse_prediction_weight=0", "--set", "baseline_grad_to_core=false"]
            + ["--set", "gae_lambda=0.5", "--set", "baseline_weight=1"]
            + ["--env-arg", "retina_reduction=mean"],
        ),
    },
)

STUDIES: dict[str, Study] = {
    "clutter": CLUTTER,
    "mnist-fast": MNIST_FAST,
    "translated": TRANSLATED,
    "clutter100": CLUTTER100,
    "estimators": ESTIMATORS,
    "estimators-conv": ESTIMATORS_CONV,
    "estimators-60": ESTIMATORS_60,
    "catch-rl": CATCH_RL,
}


def run(study: Study, variant: str, seed: int, steps: int, out: Path, extra: list[str]) -> Path:
    run_dir = out / f"{variant}-s{seed}"
    if (run_dir / "eval.json").exists():
        return run_dir
    cmd = [sys.executable, "-m", "agents.cli", "train", "--env", study.env]
    cmd += ["--steps", str(steps), "--threads", "1", "--no-progress", "--no-tensorboard", "--out", str(run_dir)]
    cmd += ["--checkpoint-every", "50"]
    if study.validate_every:
        cmd += ["--validate-every", str(study.validate_every)]
    if (run_dir / "checkpoint.pt").exists():
        cmd.append("--resume")  # the run's settings are in its checkpoint and config.json
    else:
        cmd += ["--config", study.base, "--seed", str(seed)] + study.variants[variant][1] + extra
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return run_dir


def summary(run_dir: Path, default_glimpses: int = 8) -> dict[str, float] | None:
    if not (run_dir / "eval.json").exists():
        return None
    result = json.loads((run_dir / "eval.json").read_text())
    with open(run_dir / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    last = rows[-50:]
    return {
        "error": 100 * float(result["error"]),
        "train_acc": 100 * statistics.fmean(float(r.get("accuracy") or r["score"]) for r in last),
        "seconds": float(rows[-1]["time"]),
        "steps": float(rows[-1]["env_steps"]),
        "glimpses": float(result.get("mean_glimpses") or fixed_length(run_dir, default_glimpses)),
    }


def fixed_length(run_dir: Path, default: int = 8) -> int:
    """Glimpses per episode of a run without early stopping: its ``n_glimpses`` (``default``)."""
    config = json.loads((run_dir / "config.json").read_text())
    return int(config.get("config", {}).get("env_kwargs", {}).get("n_glimpses", default))


def run_seeds(out: Path, variant: str) -> list[int]:
    """Seeds of ``variant`` with a run directory under ``out`` (``<variant>-s<seed>``), sorted."""
    pattern = re.compile(rf"{re.escape(variant)}-s(\d+)")
    return sorted(int(m.group(1)) for p in out.glob(f"{variant}-s*") if (m := pattern.fullmatch(p.name)))


def table(study: Study, out: Path, steps: int) -> str:
    """The study's markdown table: every finished run under ``out``, whichever invocation ran it."""
    lines = [
        f"Budget {steps:,} env steps per run, one torch thread, {study.env}; {study.scored} "
        "(deterministic, one sample); training score: mean of the last 50 updates' batches.",
        "",
        "| variant | change | error per seed | mean | glimpses per episode | training score "
        "| wall-clock per run | env steps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (change, _) in study.variants.items():
        runs = (summary(out / f"{name}-s{seed}", study.glimpses) for seed in run_seeds(out, name))
        got = [s for s in runs if s is not None]
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
    """Test error against mean glimpses per episode: the clutter study's early-stopping runs
    (one point per glimpse cost) beside the fixed-length ones (4, 6 and 8 glimpses) -> PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for prefix, marker, label in (("fixed-", "s", "fixed length"), ("stop-", "o", "may stop (glimpse cost)")):
        names = [n for n in CLUTTER.variants if n.startswith(prefix)] + (["base"] if prefix == "fixed-" else [])
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
    ax.set_title(f"{CLUTTER.env}: stopping early\n(RAM, ram_cluttered recipe, seed {seed}{budget})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def validation_curve(run_dir: Path) -> list[tuple[float, float, float]]:
    """``(env_steps, training seconds, validation error %)`` of a run's ``validation.csv``, the
    seconds read from ``progress.csv`` at the same env steps."""
    path = run_dir / "validation.csv"
    if not path.exists():
        return []
    with open(run_dir / "progress.csv") as f:
        progress = [(float(r["env_steps"]), float(r["time"])) for r in csv.DictReader(f)]
    steps_at = [p[0] for p in progress]
    points = []
    with open(path) as f:
        for row in csv.DictReader(f):
            steps = float(row["env_steps"])
            i = min(range(len(steps_at)), key=lambda j: abs(steps_at[j] - steps))
            points.append((steps, progress[i][1], 100 * float(row["validation_error"])))
    return points


def curve_table(study: Study, out: Path) -> str:
    """Validation error (%) of every run with a ``validation.csv`` at each scored budget, and the
    training time it took: the study's comparison over the whole horizon."""
    runs = {p.name: validation_curve(p) for p in sorted(out.iterdir()) if (p / "validation.csv").exists()}
    runs = {name: points for name, points in runs.items() if points}
    budgets = sorted({round(s / 1e6) for points in runs.values() for s, _, _ in points})
    head = "| run | " + " | ".join(f"{b}M" for b in budgets) + " | time to the last |"
    lines = [head, "|---" * (len(budgets) + 2) + "|"]
    for name, points in runs.items():
        at = {round(s / 1e6): err for s, _, err in points}
        cells = " | ".join(f"{at[b]:.2f}%" if b in at else "" for b in budgets)
        lines.append(f"| {name} | {cells} | {points[-1][1] / 60:.0f} min |")
    return "\n".join(lines) + "\n"


def curve_figure(study: Study, out: Path, path: Path) -> Path:
    """Validation error against training minutes and against env steps, one line per run -> PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_time, by_steps) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for run_dir in sorted(out.iterdir()):
        points = validation_curve(run_dir) if run_dir.is_dir() else []
        if not points:
            continue
        steps, seconds, errors = zip(*points, strict=True)
        by_time.plot([t / 60 for t in seconds], errors, marker="o", ms=3, label=run_dir.name)
        by_steps.plot([s / 1e6 for s in steps], errors, marker="o", ms=3, label=run_dir.name)
    by_time.set_xlabel("training minutes (one torch thread, two runs side by side)")
    by_steps.set_xlabel("env steps (millions)")
    by_time.set_ylabel("validation error, %")
    for ax in (by_time, by_steps):
        ax.grid(alpha=0.3)
    by_steps.legend(fontsize=8)
    fig.suptitle(f"{study.env}: validation error (deterministic, one sample); {study.scored}", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="clutter", choices=list(STUDIES), help="which study (default: clutter)")
    parser.add_argument("--steps", type=int, default=10_000_000, help="env steps per run (10M)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--variants", nargs="+", default=None, help="a subset of the study's variants (all)")
    parser.add_argument(
        "--out", default=None, help="run directories (benchmarks/results/<study>_study; summaries are committed)"
    )
    parser.add_argument("--table", default=None, help="markdown table file (OUT/table.md)")
    parser.add_argument("--stop-figure", type=Path, default=None, help="draw the early-stopping figure (PNG) and exit")
    parser.add_argument(
        "--curves",
        type=Path,
        default=None,
        help="draw the validation curves of OUT's runs (PNG), print their table, and exit",
    )
    args = parser.parse_args(argv)
    study = STUDIES[args.study]
    variants = args.variants if args.variants is not None else list(study.variants)
    unknown = sorted(set(variants) - set(study.variants))
    if unknown:
        parser.error(f"unknown variant(s) {unknown} of study {args.study!r}; known: {list(study.variants)}")
    out = Path(args.out or f"benchmarks/results/{args.study.replace('-', '_')}_study")
    if args.stop_figure is not None:
        print("wrote", stop_figure(out, args.seeds[0], args.stop_figure))
        return 0
    if args.curves is not None:
        print(curve_table(study, out))
        print("wrote", curve_figure(study, out, args.curves))
        return 0
    table_path = Path(args.table or out / "table.md")
    table_path.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:  # every variant once before the second seed
        for variant in variants:
            run(study, variant, seed, args.steps, out, [])
            table_path.write_text(table(study, out, args.steps))
    print(table_path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
