"""Play the attention tasks yourself.

    python -m ram_env.play catch            # arrow keys (or A/D) move the paddle
    python -m ram_env.play catch --fovea    # see only what the agent sees; the mouse moves the glimpse

Escape or Q quits.  The score (balls caught / balls dropped) is shown on top.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import Any, cast

import numpy as np

from ram_env import rendering
from ram_env.catch import LEFT, RIGHT, STAY, CatchEnv, CatchTask

__all__ = ["CatchGame", "main"]

BAR = 28  # height of the score bar, pixels


class CatchGame:
    """A pygame front end for :class:`~ram_env.catch.CatchEnv`.

    Args:
        fovea: show the player only the agent's multi-scale glimpse, composed around the
            fixation (each patch contrast-stretched so faint peripheral ink shows), and
            let the mouse choose the fixation.
        seed: seed of the first game.
        fps: game steps per second.
        scale: screen pixels per game pixel.
        env_kwargs: passed to :class:`CatchEnv` (e.g. ``screen_size``, ``ball_speed``).
    """

    def __init__(
        self, fovea: bool = False, seed: int | None = None, fps: float = 8, scale: int = 20, **env_kwargs: Any
    ) -> None:
        import pygame

        self.pg = pygame
        self.fovea = fovea
        self.fps = fps
        self.scale = scale
        self.env = CatchEnv(**env_kwargs)
        self.task = cast(CatchTask, self.env.task)
        self.size = self.task.screen_size
        self.caught = 0
        self.dropped = 0
        self.message = "catch the ball!"
        self.held: set[int] = set()
        self.tapped: list[int] = []  # moves pressed since the last step: a tap shorter than a frame still counts
        self.mouse = (0.0, 0.0)  # fixation, (row, col) in [-1, 1]
        self.running = True
        self.frames = 0
        self.obs, _ = self.env.reset(seed=seed, options={"initial_location": "center"})
        pygame.display.init()
        pygame.font.init()
        side = self.size * scale
        self.window = pygame.display.set_mode((side, side + BAR))
        pygame.display.set_caption("ram-gym: Catch" + (" (fovea)" if fovea else ""))
        self.font = pygame.font.Font(None, 24)
        self.clock = pygame.time.Clock()

    # ------------------------------------------------------------------ input
    def handle(self, event: Any) -> None:
        pg = self.pg
        if event.type == pg.QUIT:
            self.running = False
        elif event.type == pg.KEYDOWN:
            if event.key in (pg.K_ESCAPE, pg.K_q):
                self.running = False
            self.held.add(event.key)
            if event.key in (pg.K_LEFT, pg.K_a):
                self.tapped.append(LEFT)
            elif event.key in (pg.K_RIGHT, pg.K_d):
                self.tapped.append(RIGHT)
        elif event.type == pg.KEYUP:
            self.held.discard(event.key)
        elif event.type == pg.MOUSEMOTION:
            x, y = event.pos
            side = self.size * self.scale
            self.mouse = (float(np.clip(2 * (y - BAR) / side - 1, -1, 1)), float(np.clip(2 * x / side - 1, -1, 1)))

    def move(self) -> int:
        """The paddle move of this step: a key pressed since the last step (latched, so a quick
        tap is never lost), else the key held down."""
        pg = self.pg
        if self.tapped:
            return self.tapped.pop(0)
        left = bool(self.held & {pg.K_LEFT, pg.K_a})
        right = bool(self.held & {pg.K_RIGHT, pg.K_d})
        return LEFT if left and not right else RIGHT if right and not left else STAY

    # ------------------------------------------------------------------ game
    def tick(self) -> None:
        """One game step with the current keys and mouse."""
        action = {"location": np.array(self.mouse, dtype=np.float32), "move": self.move()}
        self.obs, reward, terminated, _, _ = self.env.step(action)
        if terminated:
            if reward > 0:
                self.caught += 1
                self.message = "caught!"
            else:
                self.dropped += 1
                self.message = "missed"
            self.obs, _ = self.env.reset(options={"initial_location": np.array(self.mouse)})

    def picture(self) -> np.ndarray:
        """The game area as uint8 ``(side, side, 3)``."""
        if self.fovea:  # raw values, as the agent gets them; each scale outlined in its colour
            boxes = self.task.sensor.patch_boxes(self.obs["location"], self.size, self.size)
            frame = rendering.compose_fovea(self.obs["glimpse"], boxes, (self.size, self.size), self.scale)
            for s, box in enumerate(boxes):
                color = rendering.SCALE_COLORS[s % len(rendering.SCALE_COLORS)]
                top, left, bottom, right = (float(v) * self.scale for v in box)
                rendering.draw_rect(frame, top, left, bottom, right, color, thickness=2)
            cy, cx = (np.asarray(self.obs["location"], dtype=float) + 1) / 2 * self.size * self.scale
            rendering.draw_disc(frame, np.array([cy, cx]), 3, rendering.FIXATION_COLOR)
        else:
            frame = rendering.to_rgb(self.task.screen[0], self.scale)
        side = self.size * self.scale
        rendering.draw_rect(frame, 0, 0, side, side, np.array((200, 200, 200), np.uint8), thickness=2)  # the walls
        return frame

    def draw(self) -> None:
        pg = self.pg
        self.window.fill((30, 30, 30))
        surface = pg.surfarray.make_surface(np.ascontiguousarray(self.picture().swapaxes(0, 1)))
        self.window.blit(surface, (0, BAR))
        text = f"caught {self.caught}   missed {self.dropped}   {self.message}"
        self.window.blit(self.font.render(text, True, (240, 240, 240)), (8, 6))
        pg.display.flip()

    def run(self, max_frames: int | None = None, events: Iterable[Sequence[Any]] | None = None) -> None:
        """The game loop; ``events`` (one list per frame) replaces the keyboard, for tests."""
        scripted = iter(events) if events is not None else None
        try:
            while self.running and (max_frames is None or self.frames < max_frames):
                frame_events = self.pg.event.get()
                if scripted is not None:
                    frame_events = list(frame_events) + list(next(scripted, []))
                for event in frame_events:
                    self.handle(event)
                if not self.running:
                    break
                self.tick()
                self.draw()
                self.frames += 1
                self.clock.tick(self.fps)
        finally:
            self.pg.display.quit()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ram_env.play", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("game", choices=["catch"], help="which game")
    parser.add_argument("--fovea", action="store_true", help="see only the glimpse; the mouse steers it")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--fps", type=float, default=8.0, help="game steps per second (default 8)")
    parser.add_argument("--scale", type=int, default=20, help="window pixels per game pixel")
    parser.add_argument("--max-frames", type=int, default=None, help="stop after this many steps")
    args = parser.parse_args(argv)
    import os

    headless = os.environ.get("SDL_VIDEODRIVER") in ("dummy", "offscreen") or (
        sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    )
    if headless and args.max_frames is None:
        print(
            "ram play: there is no display to open a window on (no DISPLAY, or SDL_VIDEODRIVER=dummy); "
            "run it on a desktop, or pass --max-frames N for a headless test run",
            file=sys.stderr,
        )
        return 2
    game = CatchGame(fovea=args.fovea, seed=args.seed, fps=args.fps, scale=args.scale)
    game.run(max_frames=args.max_frames)
    print(f"caught {game.caught}, missed {game.dropped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
