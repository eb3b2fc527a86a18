"""The paper's dynamic Catch game (Mnih et al. 2014, section 4.2) as a POMDP environment."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
from gymnasium import spaces

from ram_env.core import (
    GlimpseEnv,
    GlimpseTask,
    GlimpseVectorEnv,
    InitialLocation,
    InvalidAction,
    RenderModes,
    check_positive_int,
    passed_on,
)
from ram_env.sensor import GlimpseSensor, check_reduction

__all__ = ["CatchTask", "CatchEnv", "CatchVectorEnv", "LEFT", "STAY", "RIGHT"]

LEFT, STAY, RIGHT = 0, 1, 2
OBS_MODES = ("glimpse", "full")


class CatchTask(GlimpseTask):
    """``N`` Catch games as arrays (see :class:`CatchEnv` for the rules)."""

    action_key = "move"
    kind = "control"
    reset_options = frozenset({"initial_location"})
    # per-slot state, all with leading dimension N
    ball_row: np.ndarray  #: int64 (N,)
    ball_x: np.ndarray  #: float64 (N,)
    ball_vx: np.ndarray  #: float64 (N,)
    paddle: np.ndarray  #: int64 (N,), the paddle's leftmost column
    screen: np.ndarray  #: uint8 (N, size, size)
    caught: np.ndarray  #: bool (N,)
    obs_mode: str
    max_angle: float
    screen_size: int

    def __init__(
        self,
        num_envs: int = 1,
        screen_size: int = 24,
        paddle_width: int = 2,
        ball_speed: int = 1,
        max_angle: float = 45.0,
        glimpse_size: int = 6,
        n_scales: int = 3,
        scale_factor: float = 2.0,
        obs_mode: str = "glimpse",
        initial_location: InitialLocation = "random",
        retina_reduction: str = "mean",
    ) -> None:
        reduction = check_reduction(retina_reduction, "retina_reduction")
        self.screen_size = check_positive_int("screen_size", screen_size, low=3)
        if self.screen_size > 1024:
            raise ValueError(f"screen_size must be <= 1024, got {screen_size}")
        self.paddle_width = check_positive_int("paddle_width", paddle_width)
        if self.paddle_width > self.screen_size:
            raise ValueError(f"paddle_width {paddle_width} is wider than the screen ({screen_size})")
        self.ball_speed = check_positive_int("ball_speed", ball_speed)
        if self.ball_speed >= self.screen_size:
            raise ValueError(f"ball_speed must be < screen_size ({screen_size}) rows per step, got {ball_speed}")
        if isinstance(max_angle, bool) or not isinstance(max_angle, numbers.Real) or not 0 <= max_angle < 90:
            raise ValueError(f"max_angle must be a number of degrees in [0, 90), got {max_angle!r}")
        self.max_angle = float(max_angle)
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode must be one of {OBS_MODES}, got {obs_mode!r}")
        self.obs_mode = obs_mode
        size = self.screen_size
        #: steps from the top row to the bottom row
        self.episode_length = math.ceil((size - 1) / self.ball_speed)
        super().__init__(
            num_envs,
            GlimpseSensor(glimpse_size, n_scales, scale_factor, reduction=reduction),
            (size, size),
            n_actions=3,
            max_steps=self.episode_length,
            initial_location=initial_location,
        )
        if obs_mode == "full":
            self.single_observation_space = spaces.Box(0, 255, (size, size, 1), dtype=np.uint8)
            self.single_action_space = spaces.Discrete(3)
        n = self.num_envs
        self.ball_row = np.zeros(n, dtype=np.int64)
        self.ball_x = np.zeros(n, dtype=np.float64)
        self.ball_vx = np.zeros(n, dtype=np.float64)
        self.paddle = np.zeros(n, dtype=np.int64)  # leftmost paddle column
        self.screen = np.zeros((n, size, size), dtype=np.uint8)
        self.caught = np.zeros(n, dtype=bool)

    # ------------------------------------------------------------------ rules
    @property
    def ball_col(self) -> np.ndarray:
        """int ``(N,)``: the ball's pixel column (its position rounded, halves up)."""
        return np.floor(self.ball_x + 0.5).astype(np.int64)

    def _start(self, ids: np.ndarray, options: Mapping[str, Any]) -> np.ndarray:
        size = self.screen_size
        u = self.uniforms(ids, 5)  # ball column, angle, paddle, initial location (2)
        self.ball_row[ids] = 0
        self.ball_x[ids] = np.minimum((u[:, 0] * size).astype(np.int64), size - 1)
        angle = np.deg2rad((2 * u[:, 1] - 1) * self.max_angle)
        self.ball_vx[ids] = np.tan(angle) * self.ball_speed
        free = size - self.paddle_width + 1
        self.paddle[ids] = np.minimum((u[:, 2] * free).astype(np.int64), free - 1)
        self.caught[ids] = False
        self._draw(ids)
        return self.initial_locations(u[:, 3:], options)

    def _advance(self, ids: np.ndarray, locations: np.ndarray, choices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        last = self.screen_size - 1
        self.paddle[ids] = np.clip(self.paddle[ids] + choices - 1, 0, self.screen_size - self.paddle_width)
        self.ball_row[ids] = np.minimum(self.ball_row[ids] + self.ball_speed, last)
        x = self.ball_x[ids] + self.ball_vx[ids]
        vx = self.ball_vx[ids]
        left, right = x < 0, x > last  # bounce off the side walls
        x = np.where(left, -x, np.where(right, 2 * last - x, x))
        self.ball_vx[ids] = np.where(left | right, -vx, vx)
        self.ball_x[ids] = np.clip(x, 0, last)
        self._draw(ids)
        terminated = self.ball_row[ids] == last
        col = self.ball_col[ids]
        paddle = self.paddle[ids]
        caught = terminated & (col >= paddle) & (col < paddle + self.paddle_width)
        self.caught[ids] = caught
        self._look(ids, locations)
        return caught.astype(np.float64), terminated

    def _draw(self, ids: np.ndarray) -> None:
        screen = np.zeros((len(ids), self.screen_size, self.screen_size), dtype=np.uint8)
        rows = np.arange(len(ids))
        screen[rows, self.ball_row[ids], self.ball_col[ids]] = 255
        cols = self.paddle[ids, None] + np.arange(self.paddle_width)
        screen[rows[:, None], self.screen_size - 1, cols] = 255
        self.screen[ids] = screen
        if self.obs_mode == "glimpse":
            self._set_images(ids, screen)

    def _look(self, ids: np.ndarray, locations: np.ndarray) -> None:
        if self.obs_mode == "glimpse":
            super()._look(ids, locations)

    def _info(self) -> dict[str, np.ndarray]:
        last = self.screen_size - 1
        centre = self.paddle + (self.paddle_width - 1) / 2
        features = [
            self.ball_row / last,
            self.ball_x / last,
            self.ball_vx / self.ball_speed,
            self.paddle / last,
            (self.ball_x - centre) / last,
        ]
        return {"state": np.stack(features, axis=1).astype(np.float32)}

    def frame_image(self, i: int) -> np.ndarray:
        return self.screen[i]

    # ------------------------------------------------------------------ full-screen mode
    def observe(self, ids: np.ndarray | None = None) -> Any:
        if self.obs_mode == "glimpse":
            return super().observe(ids)
        screens = self.screen if ids is None else self.screen[ids]
        return screens[..., None].copy()

    def check_action(self, action: Any, batched: bool) -> dict[str, np.ndarray]:
        if self.obs_mode == "glimpse":
            return super().check_action(action, batched)
        raw = np.asarray(action)
        shape = (self.num_envs,) if batched else ()
        if raw.shape != shape or raw.dtype.kind not in "iu" or np.any(raw < 0) or np.any(raw > 2):
            raise InvalidAction(
                f"action must be {'an int array of shape ' + str(shape) if batched else 'an int'} in "
                f"[0, 3) (0 left, 1 stay, 2 right), got {action!r}"
            )
        move = raw.astype(np.int64).reshape(-1)
        return {"location": np.zeros((len(move), 2)), self.action_key: move}

    def render_frame(self, i: int) -> np.ndarray:
        if self.obs_mode == "glimpse":
            return super().render_frame(i)
        from ram_env import rendering

        image = self.screen[i]
        return rendering.to_rgb(image, rendering.upscale_factor(*image.shape))


class CatchEnv(GlimpseEnv):
    """Catch a falling ball with a paddle, seeing the screen only through glimpses.

    ## Description
    The dynamic task of Mnih et al., *Recurrent Models of Visual Attention* (NIPS 2014),
    section 4.2.  A binary ``screen_size x screen_size`` screen (24x24) shows a
    1-pixel ball and a ``paddle_width``-pixel paddle (2) on the bottom row.  The ball
    starts in the top row at a uniformly random column, flying at a uniformly random
    angle within ``max_angle`` degrees (45) of straight down: each step it falls
    ``ball_speed`` rows (1) and moves ``ball_speed * tan(angle)`` columns, bouncing
    off the side walls (its position is kept exactly and drawn at the nearest
    column).  The agent moves the paddle and, like the paper's agent, sees the screen
    only through a 6x6 glimpse with 3 scales (6, 12 and 24 pixels wide, each reduced to
    6x6 by area averaging, or by max pooling with ``retina_reduction="max"``) at the
    location it chooses each step.

    Each step: the paddle moves (one pixel, stopping at the walls), then the ball
    moves, then the glimpse of the new screen is taken at the chosen location.

    ## Action Space
    ``Dict(location=Box(-1, 1, (2,), float32), move=Discrete(3))``: ``move`` is
    0 = left, 1 = stay, 2 = right; ``location`` (``(row, col)``, ``(0, 0)`` the screen
    centre, ``(-1, -1)`` its top-left corner) is where the next glimpse is taken,
    clipped to ``[-1, 1]``; NaN/inf or a move outside ``{0, 1, 2}`` raise.
    With ``obs_mode="full"``: ``Discrete(3)``, the move alone.

    ## Observation Space
    ``Dict(glimpse=Box(0, 1, (3, 6, 6), float32), location=Box(-1, 1, (2,), float32))``:
    the glimpse (finest patch first) and where it was taken.  With
    ``obs_mode="full"``: the whole screen, ``Box(0, 255, (24, 24, 1), uint8)`` (ball and
    paddle 255), for full-frame baselines and for people.

    ## Rewards
    0.0 on every step but the last; on the last, 1.0 if the ball lands on the paddle
    (its column is one of the paddle's) and 0.0 if it misses.

    ## Info
    ``info["state"]`` (float32 ``(5,)``) is the game's true state after the step:
    ``(ball row, ball column, ball column velocity, paddle's leftmost column, ball
    column - paddle centre)``, positions divided by ``screen_size - 1`` and the velocity
    by ``ball_speed`` (so all lie in ``[-1, 1]``).  It is privileged: an agent that
    *acts* on it is no longer solving the POMDP.  The RAM trainer's optional asymmetric
    critic (``critic="state"``) reads it during training only, to score moves.

    ## Starting State
    Ball in the top row at a random column with a random angle; paddle at a uniformly
    random position; the first glimpse at a random location (``initial_location``:
    ``"random"``, ``"center"``, ``(row, col)``, or ``"none"``: the first observation is
    empty - zeros at ``(0, 0)`` - and the agent chooses every fixation).

    ## Episode End
    Terminated when the ball reaches the bottom row: ``ceil((screen_size - 1) /
    ball_speed)`` steps (23 by default).  Never truncated.  ``step`` after the end or
    before ``reset`` raises ``RuntimeError``.

    ## Arguments
    ```python
    import gymnasium as gym
    import ram_env

    env = gym.make("RAM-Catch-v0", render_mode="rgb_array")                 # the POMDP
    full = gym.make("RAM-Catch-v0", obs_mode="full", render_mode="rgb_array")  # whole screen
    ```

    | keyword | default | meaning |
    |---|---|---|
    | ``screen_size`` | 24 | side of the square screen |
    | ``paddle_width`` | 2 | paddle width in pixels |
    | ``ball_speed`` | 1 | rows the ball falls per step |
    | ``max_angle`` | 45.0 | largest angle from vertical, degrees |
    | ``glimpse_size`` | 6 | retina resolution |
    | ``n_scales`` | 3 | patches per glimpse |
    | ``scale_factor`` | 2.0 | width ratio of successive patches |
    | ``retina_reduction`` | ``"mean"`` | ``"mean"`` (area averaging, the paper's) or ``"max"`` (max pooling): below |
    | ``obs_mode`` | ``"glimpse"`` | ``"glimpse"`` or ``"full"`` |
    | ``initial_location`` | ``"random"`` | first fixation (``"random"``, ``"center"``, ``"none"``, ``(row, col)``) |
    | ``render_mode`` | ``None`` | ``"rgb_array"`` or ``"human"`` |

    Averaging dims the 1-pixel ball by each cell's area: 1/4 at the second scale, 1/16 at
    the third.  ``retina_reduction="max"`` max-pools each patch instead (every cell the
    largest pixel it covers), so the ball is at full strength at every scale; it needs an
    integer ``scale_factor``.

    Unknown or invalid keywords raise ``ValueError`` naming them.  ``reset(options=...)``
    takes a dict with ``"initial_location"``.

    ## Seeding
    ``reset(seed=s)`` seeds the env's generator, which draws every game's ball column,
    angle, paddle position and random first fixation: the same seed gives the same games,
    and each ``reset()`` without a seed the next game of that generator.

    ## Playing it
    ``python -m ram_env.play catch`` (arrow keys; ``--fovea`` to see only what the
    agent sees and steer the glimpse with the mouse), or with Gymnasium's player::

        from gymnasium.utils.play import play
        play(gym.make("RAM-Catch-v0", obs_mode="full", render_mode="rgb_array"), noop=1, fps=8)

    (``noop=1``: no key means *stay*.)

    ## Vectorized environment
    ``gym.make_vec("RAM-Catch-v0", num_envs=N)`` builds :class:`CatchVectorEnv`: all
    ``N`` games in numpy arrays, next-step autoreset; with ``reset(seed=s)`` env ``i``
    plays exactly the games of ``gym.make("RAM-Catch-v0").reset(seed=s + i)``.

    ## Version History
    * v0 (2026-12-07): ``retina_reduction`` added (``"max"``: a max-pooling retina);
      the default ``"mean"`` keeps every earlier result.
    * v0 (2026-12-07): the keywords are spelled out in the constructor's signature (seen by
      ``help()``, IDEs and type checkers); numpy scalars are taken where Python ones are.
      Games are unchanged.
    * v0: initial version.
    """

    task_class = CatchTask
    metadata = {"render_modes": RenderModes(["rgb_array", "human"]), "render_fps": 8}

    def __init__(
        self,
        *,
        screen_size: int = 24,
        paddle_width: int = 2,
        ball_speed: int = 1,
        max_angle: float = 45.0,
        glimpse_size: int = 6,
        n_scales: int = 3,
        scale_factor: float = 2.0,
        obs_mode: str = "glimpse",
        initial_location: InitialLocation = "random",
        retina_reduction: str = "mean",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode, **passed_on(locals()))

    def get_keys_to_action(self) -> dict[tuple[int, ...], int]:
        """Arrow keys for :func:`gymnasium.utils.play.play` (``obs_mode="full"`` only)."""
        if cast(CatchTask, self.task).obs_mode != "full":
            raise RuntimeError(
                "gymnasium's play() needs single actions: use obs_mode='full', or `python -m ram_env.play catch`"
            )
        import pygame

        return {(pygame.K_LEFT,): LEFT, (pygame.K_RIGHT,): RIGHT}


class CatchVectorEnv(GlimpseVectorEnv):
    """``n`` games of :class:`CatchEnv` stepped together with batched numpy (next-step autoreset).

    Keywords as :class:`CatchEnv`'s, after ``num_envs``.  Seeding: ``reset(seed=s)`` seeds env
    ``i`` with ``s + i``, so env ``i`` plays exactly the games of
    ``gym.make("RAM-Catch-v0").reset(seed=s + i)``; ``reset(seed=[s_0, ..., s_(n-1)])`` seeds
    env ``i`` with ``s_i`` (``None``: its generator goes on).
    """

    task_class = CatchTask
    metadata = {
        "render_modes": RenderModes(["rgb_array"]),
        "render_fps": 8,
        "autoreset_mode": GlimpseVectorEnv.metadata["autoreset_mode"],
    }

    def __init__(
        self,
        num_envs: int = 1,
        *,
        screen_size: int = 24,
        paddle_width: int = 2,
        ball_speed: int = 1,
        max_angle: float = 45.0,
        glimpse_size: int = 6,
        n_scales: int = 3,
        scale_factor: float = 2.0,
        obs_mode: str = "glimpse",
        initial_location: InitialLocation = "random",
        retina_reduction: str = "mean",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(num_envs, render_mode, **passed_on(locals()))
