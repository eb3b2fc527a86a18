"""Benchmark: compare algorithms on one environment under the same env-step budget.

Runs RAM and the Stable-Baselines3 baselines (3 seeds each by default), scores every run
on the fixed test split, prints the table and writes OUT/results.md, results.csv and
plots; then scores the shipped pretrained RAM on the whole test split, the number
benchmarks/RESULTS.md reports.

    python examples/benchmark.py --env RAM-MNIST-v0 --steps 200000 --out runs/bench-example

The same from the command line, from a YAML file: `ram bench benchmarks/configs/sweep_small.yaml`.
"""

import argparse
from pathlib import Path

from agents.bench import SweepConfig, run_sweep
from agents.evaluation import evaluate
from agents.pretrained import available
from agents.ram import RAM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="RAM-MNIST-v0")
    parser.add_argument("--algos", nargs="+", default=["ram", "ppo", "a2c"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=200_000, help="env steps per run")
    parser.add_argument("--eval-episodes", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-example"))
    args = parser.parse_args()

    config = SweepConfig(
        name="example",
        algos=args.algos,
        envs=[args.env],
        seeds=args.seeds,
        steps=args.steps,
        eval_episodes=args.eval_episodes,
    )
    run_sweep(config, args.out, jobs=args.jobs)  # prints one line a run, then the table
    print((args.out / "results.md").read_text())

    if args.env in available():
        agent = RAM.load_pretrained(args.env)
        print("shipped model:", evaluate(agent).summary())
        recorded = agent.checkpoint_extra.get("test_error")
        print(f"recorded when shipped: {100 * recorded:.2f}% error" if recorded is not None else "no recorded error")


if __name__ == "__main__":
    main()
