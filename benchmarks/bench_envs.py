"""Speed of the glimpse sensor and of the classification environments, in one run.

Prints a table of throughputs and the ratios between them, all measured now on this
machine (ratios are what to compare across machines):

* the glimpse sensor alone (60x60 images, 12x12 retina, 3 scales): reading glimpses
  from precomputed integral images, and including the integral images;
* the same glimpses taken by a per-sample Python loop (pad, crop, block-average);
* ``RAM-ClutteredMNIST-v0`` env steps/s with ``--num-envs`` environments: the native
  vector env (``gym.make_vec``) and Gymnasium's ``SyncVectorEnv`` of single envs.

Usage::

    python benchmarks/bench_envs.py [--num-envs 256] [--batch 1024] [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import gymnasium as gym
import numpy as np

import ram_env
from ram_env.sensor import GlimpseSensor, locations_to_pixels


def loop_glimpses(images: np.ndarray, locations: np.ndarray, g: int = 12, k: int = 3, f: int = 2) -> np.ndarray:
    """The per-sample-loop reference: for each image and scale, pad, crop and block-average."""
    n, h, w = images.shape
    out = np.empty((n, k, g, g), np.float32)
    pad = g * f ** (k - 1)
    centres = locations_to_pixels(locations, h, w)
    for i in range(n):
        padded = np.pad(images[i].astype(np.float32) / 255.0, pad)
        for s in range(k):
            size, cell = g * f**s, f**s
            top, left = np.floor(centres[i] - size / 2 + 0.5).astype(int) + pad
            patch = padded[top : top + size, left : left + size]
            out[i, s] = patch.reshape(g, cell, g, cell).mean(axis=(1, 3))
    return out


def rate(fn, items: int, seconds: float) -> float:
    """Items per second of ``fn()`` (each call handles ``items``), timed for ``seconds``."""
    fn()  # warm-up
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return items * calls / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1024, help="glimpses per sensor call")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--env-id", default="RAM-ClutteredMNIST-v0")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    data = ram_env.datasets.DigitCanvases("train", canvas_size=60, n_distractors=4)
    images, _ = data.render(rng.random((args.batch, data.layout_width)))
    locations = rng.uniform(-1, 1, (args.batch, 2))
    sensor = GlimpseSensor(12, 3, 2)
    table = sensor.integral(images)
    np.testing.assert_allclose(
        sensor.read(table, locations)[:64], loop_glimpses(images[:64], locations[:64]), atol=1e-5
    )

    rows: list[tuple[str, float, str]] = []
    read = rate(lambda: sensor.read(table, locations), args.batch, args.seconds)
    full = rate(lambda: sensor(images, locations), args.batch, args.seconds)
    small = args.batch // 8
    loop = rate(lambda: loop_glimpses(images[:small], locations[:small]), small, args.seconds)
    rows += [
        (f"sensor read, batch {args.batch} (integral images precomputed)", read, "glimpses/s"),
        (f"sensor incl. integral images, batch {args.batch}", full, "glimpses/s"),
        ("per-sample loop reference", loop, "glimpses/s"),
    ]

    n = args.num_envs
    actions = {"location": rng.uniform(-1, 1, (n, 2)).astype(np.float32), "label": rng.integers(0, 10, n)}
    native = gym.make_vec(args.env_id, num_envs=n)
    native.reset(seed=0)
    native_rate = rate(lambda: native.step(actions), n, args.seconds)
    sync = gym.make_vec(args.env_id, num_envs=n, vectorization_mode="sync")
    sync.reset(seed=0)
    sync_rate = rate(lambda: sync.step(actions), n, args.seconds)
    rows += [
        (f"{args.env_id} native vector env, {n} envs", native_rate, "env steps/s"),
        (f"{args.env_id} SyncVectorEnv, {n} envs", sync_rate, "env steps/s"),
    ]
    catch_actions = {"location": actions["location"], "move": rng.integers(0, 3, n)}
    catch_native = gym.make_vec("RAM-Catch-v0", num_envs=n)
    catch_native.reset(seed=0)
    catch_rate = rate(lambda: catch_native.step(catch_actions), n, args.seconds)
    catch_sync = gym.make_vec("RAM-Catch-v0", num_envs=n, vectorization_mode="sync")
    catch_sync.reset(seed=0)
    catch_sync_rate = rate(lambda: catch_sync.step(catch_actions), n, args.seconds)
    rows += [
        (f"RAM-Catch-v0 native vector env, {n} envs", catch_rate, "env steps/s"),
        (f"RAM-Catch-v0 SyncVectorEnv, {n} envs", catch_sync_rate, "env steps/s"),
    ]

    print(
        f"# bench_envs  {time.strftime('%Y-%m-%d')}  {platform.processor() or platform.machine()}  "
        f"{os.cpu_count()} cores  numpy {np.__version__}  gymnasium {gym.__version__}"
    )
    print(f"| {'measurement':<62} | {'rate':>12} | unit |")
    print(f"|{'-' * 64}|{'-' * 14}|------|")
    for name, value, unit in rows:
        print(f"| {name:<62} | {value:>12,.0f} | {unit} |")
    print()
    print(f"sensor read / per-sample loop:        {read / loop:8.1f}x")
    print(f"native vector env / SyncVectorEnv:    {native_rate / sync_rate:8.1f}x  ({args.env_id})")
    print(f"native vector env / SyncVectorEnv:    {catch_rate / catch_sync_rate:8.1f}x  (RAM-Catch-v0)")


if __name__ == "__main__":
    main()
