"""Training speed of the RAM against the machine's own matmul rate (issue 15).

For each core (``rnn``, ``lstm``) and batch size, in one run: images (episodes) and env
steps per second of real RAM updates, the model's FLOPs per glimpse (counted from the
layer shapes: forward multiply-adds x 2, backward twice the forward), the GFLOP/s that
makes, the GFLOP/s that torch's matmul reaches on this machine at the model's own layer
shapes and batch (measured here, forward and backward products), and the ratio of the two:
how near the hardware limit training runs.

    python benchmarks/bench_train.py [--env RAM-ClutteredMNIST-v0] [--batches 128 512] [--seconds 10]

Run it on an otherwise idle machine; compare rates only within one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from agents.ram import RAM
from agents.threads import use_free_cores


def layer_shapes(agent: RAM) -> list[tuple[int, int]]:
    """``(in, out)`` of every matrix product one glimpse step runs (forward)."""
    shapes = []
    for module in agent.policy.modules():
        if isinstance(module, torch.nn.Linear):
            shapes.append((module.in_features, module.out_features))
        elif isinstance(module, torch.nn.LSTMCell):
            shapes += [(module.input_size, 4 * module.hidden_size), (module.hidden_size, 4 * module.hidden_size)]
    return shapes


def flops_per_glimpse(shapes: list[tuple[int, int]]) -> float:
    """Forward and backward FLOPs of one glimpse step: 2 per multiply-add, backward = 2 x forward."""
    return 3 * sum(2 * i * o for i, o in shapes)


def matmul_rate(shapes: list[tuple[int, int]], batch: int, seconds: float = 2.0) -> float:
    """GFLOP/s of torch's matmul on these shapes at this batch: forward, grad-input and grad-weight products."""
    mats = [(torch.randn(batch, i), torch.randn(i, o), torch.randn(batch, o)) for i, o in shapes]
    flops = 3 * sum(2 * batch * i * o for i, o in shapes)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for x, w, g in mats:
            x @ w  # forward
            g @ w.T  # gradient of the input
            x.T @ g  # gradient of the weights
        done += 1
    return done * flops / (time.perf_counter() - start) / 1e9


def measure(env_id: str, core: str, batch: int, seconds: float) -> dict[str, float]:
    agent = RAM(env_id, seed=0, num_envs=batch, core=core)
    envs = agent._make_envs()
    agent.total_timesteps = 10**12
    agent.train_step(envs, seed=0)  # warm-up
    episodes = steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        metrics = agent.train_step(envs)
        episodes += batch
        steps += int(metrics["episode_length"] * batch)
    elapsed = time.perf_counter() - start
    shapes = layer_shapes(agent)
    per_glimpse = flops_per_glimpse(shapes)
    achieved = steps * per_glimpse / elapsed / 1e9
    limit = matmul_rate(shapes, batch)
    return {
        "images": episodes / elapsed,
        "steps": steps / elapsed,
        "mflop": per_glimpse / 1e6,
        "gflops": achieved,
        "limit": limit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="RAM-ClutteredMNIST-v0")
    parser.add_argument("--batches", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--cores", nargs="+", default=["rnn", "lstm"])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the idle cores)")
    args = parser.parse_args()
    threads = use_free_cores(args.threads)
    print(
        f"# bench_train  {time.strftime('%Y-%m-%d')}  {platform.machine()}  {os.cpu_count()} cores  "
        f"torch {torch.__version__}  {threads} torch threads  env {args.env}"
    )
    print("| core | batch | images/s | env steps/s | MFLOP per glimpse | achieved GFLOP/s | matmul GFLOP/s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for core in args.cores:
        for batch in args.batches:
            m = measure(args.env, core, batch, args.seconds)
            print(
                f"| {core} | {batch} | {m['images']:,.0f} | {m['steps']:,.0f} | {m['mflop']:.2f} | "
                f"{m['gflops']:.1f} | {m['limit']:.1f} | {m['gflops'] / m['limit']:.0%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
