"""Where did the RAM look when it was wrong?  Fixations against the digit, correct vs wrong.

For each test image of a classification env, the distance in pixels from each of the
agent's fixations (deterministic, as ``ram eval`` plays them) to the ink centre of the
*target* digit - known from the split's fixed layout table, so clutter does not count -
then one row for the correctly and one for the wrongly classified images.  If the wrong
ones looked as close to the digit as the right ones, the errors are recognition errors
(the agent saw the digit and misread it); if many wrong ones never came near it, the
location policy (search) is what limits the score.

    python benchmarks/fixation_errors.py --pretrained RAM-ClutteredMNIST-v0 RAM-ClutteredMNIST100-v0
    python benchmarks/fixation_errors.py --model runs/my-run/model.pt --n 2000
"""

from __future__ import annotations

import argparse
import sys

import gymnasium as gym
import numpy as np

import ram_env
from agents.ram.agent import RAM
from agents.visualize import record_episodes
from ram_env.classification import ClassificationTask
from ram_env.datasets import Canvases
from ram_env.sensor import locations_to_pixels

NEAR, FAR = 6.0, 12.0  #: pixels: within half a finest 12x12 patch / a whole patch of the centre


def digit_centres(dataset: Canvases, indices: np.ndarray) -> np.ndarray:
    """float64 ``(n, 2)`` ``(y, x)`` canvas pixel of the ink centre of test images ``indices``
    (their translation from the split's fixed layout table)."""
    top, left = dataset.offsets(dataset.fixed_layouts(indices))
    h, w = dataset.image_shape
    ink = dataset.images[indices].astype(np.float64)
    if ink.ndim == 4:  # colour: all channels
        ink = ink.sum(axis=3)
    mass = np.maximum(ink.sum(axis=(1, 2)), 1e-9)
    yy, xx = np.mgrid[0:h, 0:w]
    cy = (ink * yy).sum(axis=(1, 2)) / mass + 0.5  # pixel centres
    cx = (ink * xx).sum(axis=(1, 2)) / mass + 0.5
    return np.stack([top + cy, left + cx], axis=1)


def fixation_table(agent: RAM, n: int) -> tuple[str, list[str]]:
    """Play test images ``0 .. n-1`` and return a title and the markdown table's lines."""
    probe = gym.make(agent.env_id, **agent.env_kwargs)
    if ram_env.task_kind(probe) != "classification":
        raise SystemExit(f"fixation_errors: {agent.env_id} is not a classification env")
    probe.close()
    test = gym.make(agent.env_id, **{**agent.env_kwargs, "split": "test"})
    task = ram_env.glimpse_task(test)
    assert isinstance(task, ClassificationTask)  # a classification env's task
    dataset = task.dataset
    test.close()
    if not 1 <= n <= len(dataset):
        raise SystemExit(f"fixation_errors: --n must be in [1, {len(dataset)}] for {agent.env_id}, got {n}")
    records = record_episodes(agent, n=n, split="test", seed=0)
    indices = np.array([r.index for r in records])
    wrong = np.array([r.predicted != r.label for r in records])
    steps = min(len(r.locations) for r in records)
    locations = np.stack([r.locations[:steps] for r in records])  # (n, T, 2)
    size = dataset.canvas_size
    pixels = locations_to_pixels(locations, size, size)  # (n, T, 2)
    centre = digit_centres(dataset, indices)[:, None, :]
    distance = np.hypot(*np.moveaxis(pixels - centre, -1, 0))  # (n, T)
    closest = distance.min(axis=1)
    title = (
        f"{agent.env_id}: test images 0..{n - 1}, {int(wrong.sum())} wrong ({100 * wrong.mean():.2f}%), "
        f"{steps} fixations each"
    )
    lines = [
        "| test images | closest fixation to the digit's centre (median) "
        f"| never within {NEAR:.0f} px | never within {FAR:.0f} px | fixations within {NEAR:.0f} px (mean) |",
        "|---|---|---|---|---|",
    ]
    for name, chosen in (("correct", ~wrong), ("wrong", wrong)):
        if not chosen.any():
            lines.append(f"| {name} (0) | - | - | - | - |")
            continue
        c = closest[chosen]
        lines.append(
            f"| {name} ({int(chosen.sum())}) | {np.median(c):.1f} px | {100 * (c > NEAR).mean():.1f}% "
            f"| {100 * (c > FAR).mean():.1f}% | {(distance[chosen] <= NEAR).sum(axis=1).mean():.2f} |"
        )
    return title, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--pretrained", nargs="+", metavar="ENV_ID", help="shipped models by env id")
    what.add_argument("--model", nargs="+", metavar="PATH", help="RAM checkpoints (model.pt)")
    parser.add_argument("--n", type=int, default=10_000, help="test images 0..n-1 (default: the whole split)")
    args = parser.parse_args(argv)
    agents = [RAM.load_pretrained(e) for e in args.pretrained] if args.pretrained else [RAM.load(p) for p in args.model]
    for agent in agents:
        title, lines = fixation_table(agent, args.n)
        print(title)
        print("\n".join(lines))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
