"""The rl-track tuning study: one change at a time, a fixed budget, a table.

Each variant is one ``ram train`` command: an algorithm on an env with a few settings
changed from the shipped defaults (``agents/baselines/hyperparams/*.yml``, ``RAMConfig``).
Variants run one after another (one torch thread each) into ``--out/<variant>/``; a
variant whose ``eval.json`` exists is not run again and one stopped part-way continues
from its checkpoint, so the study resumes.  The table
gives the test score (accuracy on the first ``--eval-episodes`` test images, or catch
rate over that many seeded games; "stopped" for a variant cut short), the training score
(the mean episode score of the last 20 updates; for the dense reward, the share of steps
whose label was right), the training wall-clock and the env steps reached.

    python benchmarks/tune_baselines.py --out runs/tune                 # every variant
    python benchmarks/tune_baselines.py --out runs/tune --only ppo-mnist-dense-h6
    python benchmarks/tune_baselines.py --out runs/tune --table         # the table only

The settings of a variant are written with the ``--set`` / ``--env-arg`` syntax of
``ram train``; RESULTS.md ("Tuning the rl track") has the figures of the committed run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

M, C = "RAM-MNIST-v0", "RAM-Catch-v0"


def cli(*settings: str, env: tuple[str, ...] = ()) -> list[str]:
    """``ram train`` arguments: ``--set`` each of ``settings``, ``--env-arg`` each of ``env``."""
    return [a for item in settings for a in ("--set", item)] + [a for item in env for a in ("--env-arg", item)]


DENSE = ("reward=dense",)
ALIVE = ("entropy_coef=0.05", "normalize_advantage=true", "learning_rate=0.0001")  # ram-rl: no collapse

#: name -> (algorithm, env id, env steps, extra ``ram train`` arguments)
VARIANTS: dict[str, tuple[str, str, int, list[str]]] = {
    # PPO on RAM-MNIST-v0: the reward variant and memory
    "ppo-mnist-final": ("ppo", M, 1_000_000, []),
    "ppo-mnist-dense-h6": ("ppo", M, 1_000_000, cli("history=6", env=DENSE)),
    "ppo-mnist-xent-box-h6": ("ppo", M, 1_000_000, cli("encoding=box", "history=6", env=("reward=cross_entropy",))),
    "ppo-mnist-dense-h6-small": (
        "ppo",
        M,
        1_000_000,
        cli("history=6", "n_epochs=2", "policy_kwargs={net_arch: [128, 128]}", env=DENSE),
    ),
    # PPO on glimpse Catch: memory and the fixation grid; the full screen as a control
    "ppo-catch-h4": ("ppo", C, 1_000_000, cli("history=4")),
    "ppo-catch-h4-grid3": ("ppo", C, 1_000_000, cli("history=4", "grid=3")),
    "ppo-catch-full-screen": ("ppo", C, 1_000_000, cli(env=("obs_mode=full",))),
    # the on-policy learners on glimpse Catch at the reference budget (5M): the max-pooled retina
    # (the 1-pixel ball at full strength in the periphery) over the shipped settings (history 4, 3x3 grid)
    "a2c-catch-5m": ("a2c", C, 5_000_000, []),
    "a2c-catch-5m-max": ("a2c", C, 5_000_000, cli(env=("retina_reduction=max",))),
    "ppo-catch-5m-max": ("ppo", C, 5_000_000, cli(env=("retina_reduction=max",))),
    "recurrent-ppo-catch-5m-max": ("recurrent-ppo", C, 5_000_000, cli(env=("retina_reduction=max",))),
    # RecurrentPPO updated as often as A2C learns Catch (a rollout of 16 steps, not 46), at A2C's rate
    "recurrent-ppo-catch-5m-max-n16": (
        "recurrent-ppo",
        C,
        5_000_000,
        cli("n_steps=16", "batch_size=256", "learning_rate=0.0007", env=("retina_reduction=max",)),
    ),
    "dqn-catch-5m-max": ("dqn", C, 5_000_000, cli(env=("retina_reduction=max",))),
    "a2c-catch-5m-max-lambda095": ("a2c", C, 5_000_000, cli("gae_lambda=0.95", env=("retina_reduction=max",))),
    # the RAM on the reward alone (ram-rl) on RAM-MNIST-v0
    "ramrl-mnist-defaults": ("ram-rl", M, 5_000_000, []),
    "ramrl-mnist-entropy-norm": ("ram-rl", M, 2_000_000, cli("entropy_coef=0.01", "normalize_advantage=true")),
    "ramrl-mnist-lr1e-4-entropy-norm": ("ram-rl", M, 1_000_000, cli(*ALIVE)),
    "ramrl-mnist-lr1e-4-entropy-norm-linear-dense": (
        "ram-rl",
        M,
        1_000_000,
        cli(*ALIVE, "location_mean=linear", env=DENSE),
    ),
}


def run(name: str, out: Path, eval_episodes: int) -> None:
    algo, env_id, steps, extra = VARIANTS[name]
    command = [sys.executable, "-m", "agents.cli", "train", "--algo", algo, "--env", env_id]
    command += ["--steps", str(steps), "--threads", "1", "--no-progress", "--no-tensorboard"]
    command += ["--eval-episodes", str(eval_episodes), "--out", str(out / name)]
    # a variant stopped part-way continues from its checkpoint (its settings are in it)
    command += ["--resume"] if (out / name / "checkpoint.pt").exists() else extra
    print(f"{name}: {' '.join(command[2:])}", flush=True)
    with open(out / f"{name}.log", "a") as log:
        subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, check=False, env={**os.environ, "OMP_NUM_THREADS": "1"}
        )


def row(name: str, out: Path) -> str:
    algo, env_id, steps, extra = VARIANTS[name]
    settings = " ".join(extra[i + 1] for i in range(0, len(extra), 2)) or "defaults"
    progress = out / name / "progress.csv"
    rows: list[dict[str, str]] = []
    if progress.exists():
        with open(progress, newline="") as f:
            rows = list(csv.DictReader(f))
    if not rows:
        return f"| {name} | {algo} | {env_id} | `{settings}` | - | - | - | - |"
    seconds, reached = float(rows[-1]["time"]), int(float(rows[-1]["env_steps"]))
    train = float(np.mean([float(r["score"]) for r in rows[-20:]]))  # the last 20 updates
    result_path = out / name / "eval.json"
    test = f"{json.loads(result_path.read_text())['mean_reward']:.3f}" if result_path.exists() else "stopped"
    return f"| {name} | {algo} | {env_id} | `{settings}` | {test} | {train:.3f} | {seconds:,.0f} | {reached:,} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/tune")
    parser.add_argument("--only", nargs="+", choices=sorted(VARIANTS), help="run just these variants")
    parser.add_argument("--eval-episodes", type=int, default=2000)
    parser.add_argument("--table", action="store_true", help="print the table of what has run; run nothing")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = args.only or list(VARIANTS)
    if not args.table:
        for name in names:
            if not (out / name / "eval.json").exists():
                run(name, out, args.eval_episodes)
    print("| variant | algo | env | settings changed | test score | training score | training (s) | env steps |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        print(row(name, out))


if __name__ == "__main__":
    main()
