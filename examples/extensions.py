"""The paper's two extensions: stop glimpsing early, and choose the scale of each glimpse.

Trains two RAMs for the same budget on one environment:

* ``allow_stop=True, glimpse_cost=c``: the action gains a ``stop`` choice and every glimpse
  after the first costs ``c``; the RAM's Bernoulli stop policy learns when to stop.
* ``zoom=(a, b)``: the action gains a ``zoom`` that sets the next glimpse's finest patch to
  ``a .. b`` pixels; the RAM's location policy learns it as a third output.

Each is scored on the whole test split (accuracy, glimpses per episode, mean chosen width)
and the zoom model's glimpses are drawn, the retina squares sized as it chose.

    python examples/extensions.py [--env RAM-MNIST-v0] [--steps 600000] [--cost 0.01] [--zoom 4 16]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np

import ram_env
from agents.evaluation import evaluate
from agents.ram import RAM, RAMConfig
from agents.visualize import glimpse_grid, record_episodes, save_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="RAM-MNIST-v0", help="a classification env id")
    parser.add_argument("--steps", type=int, default=600_000, help="training env steps of each model")
    parser.add_argument("--cost", type=float, default=0.01, help="glimpse_cost of the early-stopping model")
    parser.add_argument("--zoom", type=float, nargs=2, default=(4.0, 16.0), metavar=("MIN", "MAX"))
    parser.add_argument("--eval-episodes", type=int, default=None, help="test images to score (all)")
    parser.add_argument("--out", type=Path, default=Path("runs/extensions"))
    args = parser.parse_args()

    stopper = RAM(args.env, RAMConfig(env_kwargs={"allow_stop": True, "glimpse_cost": args.cost}), seed=0)
    stopper.learn(args.steps)
    print(f"stop early, cost {args.cost}:", evaluate(stopper, args.eval_episodes).summary())

    zoomer = RAM(args.env, RAMConfig(env_kwargs={"zoom": tuple(args.zoom)}), seed=0)
    zoomer.learn(args.steps)
    print(f"zoom {args.zoom[0]:g}..{args.zoom[1]:g} px:", evaluate(zoomer, args.eval_episodes).summary())
    records = record_episodes(zoomer, n=9)
    widths = np.concatenate([r.widths for r in records if r.widths is not None])
    print(
        f"chosen finest-patch widths over 9 test episodes: mean {widths.mean():.1f} px, "
        f"first glimpse {records[0].widths[0]:.1f} px, later ones {np.round(records[0].widths[1:], 1).tolist()}"
    )
    sensor = ram_env.glimpse_sensor(gym.make(zoomer.env_id, **zoomer.env_kwargs))
    picture, _ = glimpse_grid(records, sensor, columns=3)
    print("wrote", save_png(picture, args.out / "zoom.png"))


if __name__ == "__main__":
    main()
