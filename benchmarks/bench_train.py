"""Training speed of the RAM: images (episodes) per second and time per epoch, by batch size.

Each measurement trains a fresh agent for ``--seconds`` after one warm-up update, in
this process, so the rates are comparable with each other (report ratios across machines).
An epoch is the 55,000 training images.

Usage::

    python benchmarks/bench_train.py [--env RAM-ClutteredMNIST-v0] [--batches 32 64 128 256 512] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from agents.ram import RAM

EPOCH = 55_000


def measure(env_id: str, batch: int, seconds: float, threads: int) -> tuple[float, float]:
    """``(images/s, env steps/s)`` of RAM training with ``batch`` episodes per update."""
    torch.set_num_threads(threads)
    agent = RAM(env_id, seed=0, num_envs=batch)
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
    return episodes / elapsed, steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="RAM-ClutteredMNIST-v0")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(
        f"# bench_train  {time.strftime('%Y-%m-%d')}  {platform.machine()}  {os.cpu_count()} cores  "
        f"torch {torch.__version__}  {args.threads} torch threads  env {args.env}"
    )
    print("| batch (episodes/update) | images/s | env steps/s | time per epoch (55,000 images) |")
    print("|---|---|---|---|")
    rates = {}
    for batch in args.batches:
        images, steps = measure(args.env, batch, args.seconds, args.threads)
        rates[batch] = images
        print(f"| {batch} | {images:,.0f} | {steps:,.0f} | {EPOCH / images:.1f} s |", flush=True)
    best = max(rates, key=rates.get)
    if 128 in rates:
        print(f"\nbest batch size: {best} ({rates[best]:,.0f} images/s, {rates[best] / rates[128]:.2f}x batch 128)")


if __name__ == "__main__":
    main()
