"""Play the paper's Catch game yourself (arrow keys), or see only what the agent sees (--fovea).

    python examples/play_catch.py            # the whole screen
    python examples/play_catch.py --fovea    # only the glimpse; the mouse moves it

The same game is `python -m ram_env.play catch`.  Gymnasium's own player works too:

    from gymnasium.utils.play import play
    play(gym.make("RAM-Catch-v0", obs_mode="full", render_mode="rgb_array"), noop=1, fps=8)
"""

import argparse

from ram_env.play import CatchGame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fovea", action="store_true")
    parser.add_argument("--fps", type=float, default=8.0)
    parser.add_argument("--max-frames", type=int, default=None, help="stop after this many game steps")
    args = parser.parse_args()
    game = CatchGame(fovea=args.fovea, seed=0, fps=args.fps)
    game.run(max_frames=args.max_frames)
    print(f"caught {game.caught}, missed {game.dropped}")


if __name__ == "__main__":
    main()
