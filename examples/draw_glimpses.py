"""Draw where an agent looks: a PNG grid of test images with glimpse paths, and one GIF.

    python examples/draw_glimpses.py runs/mnist/model.pt       # a trained checkpoint
    python examples/draw_glimpses.py --steps 1000000           # or train RAM-MNIST-v0 briefly first (~20 s)

The same from the command line: `ram show CHECKPOINT --out glimpses.png` (or `--out episode.gif`).
"""

import argparse
from pathlib import Path

import gymnasium as gym

import ram_env
from agents import visualize
from agents.ram import RAM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", nargs="?", default=None)
    parser.add_argument("--steps", type=int, default=1_000_000, help="training steps when no checkpoint is given")
    parser.add_argument("--n", type=int, default=9, help="test images in the grid")
    parser.add_argument("--out-dir", default="pictures")
    args = parser.parse_args()

    agent = RAM.load(args.checkpoint) if args.checkpoint else RAM("RAM-MNIST-v0", seed=0).learn(args.steps)
    records = visualize.record_episodes(agent, n=args.n)  # test images 0..n-1, deterministic fixations
    sensor = ram_env.glimpse_sensor(gym.make(agent.env_id, **agent.env_kwargs))
    grid, _ = visualize.glimpse_grid(records, sensor)
    out = Path(args.out_dir)
    print("wrote", visualize.save_png(grid, out / "glimpses.png"))
    print("wrote", visualize.episode_gif(records[0], sensor, out / "episode.gif"))
    correct = sum(r.predicted == r.label for r in records)
    fixations = ", ".join(f"({r:+.2f}, {c:+.2f})" for r, c in records[0].locations.astype(float))
    print(f"{correct}/{len(records)} correct; fixations (row, col) of the first: {fixations}")


if __name__ == "__main__":
    main()
