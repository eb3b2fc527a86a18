"""Flat action encodings for libraries without ``Dict`` actions (e.g. Stable-Baselines3).

The glimpse environments act with ``Dict(location=Box(-1, 1, (2,)), <key>=Discrete(n))``.
Stable-Baselines3 accepts ``Box``, ``Discrete``, ``MultiDiscrete`` and ``MultiBinary``
actions only, so these wrappers re-encode the action (the observation is unchanged: SB3
takes ``Dict`` observations with ``MultiInputPolicy``):

======================  =====================================  ===============================
wrapper                 action space                           decoded as
======================  =====================================  ===============================
``GridActions(n)``      ``MultiDiscrete([n * n, n_actions])``  fixation on an n x n grid, choice
``DiscreteActions(n)``  ``Discrete(n * n * n_actions)``        the same, flattened (for DQN)
``BoxActions()``        ``Box(-1, 1, (2 + n_actions,))``       location, then argmax of the rest
======================  =====================================  ===============================

Grid fixations are the centres of an ``n x n`` tiling of ``[-1, 1]^2``, numbered row by
row: cell ``i`` is at ``(row, col) = ((2 * (i // n) + 1) / n - 1, (2 * (i % n) + 1) / n - 1)``.

Each encoding is an :class:`ActionEncoding` that decodes whole batches with numpy, so
the same code serves these single-env wrappers and the batched Stable-Baselines3
adapter in :mod:`agents.baselines`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ram_env.core import InvalidAction, check_positive_int

__all__ = [
    "ActionEncoding",
    "GridEncoding",
    "DiscreteEncoding",
    "BoxEncoding",
    "GridActions",
    "DiscreteActions",
    "BoxActions",
    "grid_locations",
    "make_encoding",
]


def grid_locations(grid: int) -> np.ndarray:
    """float32 ``(grid * grid, 2)``: the ``(row, col)`` fixation of each grid cell."""
    centres = (2 * np.arange(grid) + 1) / grid - 1
    rows, cols = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([rows.ravel(), cols.ravel()], axis=1).astype(np.float32)


def glimpse_action_parts(space: gym.Space) -> tuple[str, int]:
    """``(key, n)`` of a glimpse action space ``Dict(location, key=Discrete(n))``."""
    if not isinstance(space, spaces.Dict) or "location" not in space.spaces or len(space.spaces) != 2:
        raise ValueError(f"expected a glimpse env with Dict(location, <Discrete>) actions, got {space}")
    key = next(k for k in space.spaces if k != "location")
    choice = space.spaces[key]
    if not isinstance(choice, spaces.Discrete):
        raise ValueError(f"action {key!r} must be Discrete, got {choice}")
    return key, int(choice.n)


class ActionEncoding:
    """A flat action space for a glimpse action space, with a batched decoder.

    Attributes:
        space: the flat (single-env) action space.
        key: name of the discrete part of the native action (``"label"`` or ``"move"``).
    """

    space: gym.Space

    def __init__(self, native: gym.Space) -> None:
        self.key, self.n_actions = glimpse_action_parts(native)

    def decode(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        """Flat actions with a leading batch dimension -> ``{"location": (N, 2), key: (N,)}``."""
        raise NotImplementedError

    def decode_one(self, action: Any) -> dict[str, Any]:
        """One flat action -> the native dict action."""
        batch = self.decode(np.asarray(action)[None])
        return {"location": batch["location"][0], self.key: int(batch[self.key][0])}

    def _invalid(self, actions: Any) -> InvalidAction:
        return InvalidAction(f"{type(self).__name__}: action {actions!r} is not in {self.space}")


class _FixationGrid(ActionEncoding):
    """An encoding whose fixations are the ``grid x grid`` points of :func:`grid_locations`."""

    def __init__(self, native: gym.Space, grid: int) -> None:
        super().__init__(native)
        self.grid = check_positive_int("grid", grid)
        self.locations = grid_locations(self.grid)


class GridEncoding(_FixationGrid):
    """``MultiDiscrete([grid * grid, n_actions])``."""

    def __init__(self, native: gym.Space, grid: int = 5) -> None:
        super().__init__(native, grid)
        self.space: spaces.MultiDiscrete = spaces.MultiDiscrete([self.grid * self.grid, self.n_actions])

    def decode(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        a = np.asarray(actions)
        if a.ndim != 2 or a.shape[1] != 2 or a.dtype.kind not in "iu" or np.any(a < 0) or np.any(a >= self.space.nvec):
            raise self._invalid(actions)
        return {"location": self.locations[a[:, 0]], self.key: a[:, 1].astype(np.int64)}


class DiscreteEncoding(_FixationGrid):
    """``Discrete(grid * grid * n_actions)``: action ``a`` = cell ``a // n_actions``, choice ``a % n_actions``."""

    def __init__(self, native: gym.Space, grid: int = 3) -> None:
        super().__init__(native, grid)
        self.space: spaces.Discrete = spaces.Discrete(self.grid * self.grid * self.n_actions)

    def decode(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        a = np.asarray(actions)
        a = a.reshape(len(a)) if a.ndim == 2 and a.shape[1] == 1 else a
        if a.ndim != 1 or a.dtype.kind not in "iu" or np.any(a < 0) or np.any(a >= self.space.n):
            raise self._invalid(actions)
        return {"location": self.locations[a // self.n_actions], self.key: (a % self.n_actions).astype(np.int64)}


class BoxEncoding(ActionEncoding):
    """``Box(-1, 1, (2 + n_actions,))``: the location, then one score per choice (argmax wins)."""

    def __init__(self, native: gym.Space) -> None:
        super().__init__(native)
        self.space = spaces.Box(-1.0, 1.0, (2 + self.n_actions,), dtype=np.float32)

    def decode(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        a = np.asarray(actions, dtype=np.float32)
        if a.ndim != 2 or a.shape[1:] != self.space.shape or not np.all(np.isfinite(a)):
            raise self._invalid(actions)
        return {"location": np.clip(a[:, :2], -1.0, 1.0), self.key: np.argmax(a[:, 2:], axis=1).astype(np.int64)}


ENCODINGS = {"grid": GridEncoding, "discrete": DiscreteEncoding, "box": BoxEncoding}


def make_encoding(name: str, native: gym.Space, grid: int | None = None) -> ActionEncoding:
    """``"grid"``, ``"discrete"`` or ``"box"`` encoding of ``native`` (``grid``: points per side)."""
    if name not in ENCODINGS:
        raise ValueError(f"action encoding must be one of {sorted(ENCODINGS)}, got {name!r}")
    if name == "box":
        return BoxEncoding(native)
    return ENCODINGS[name](native, grid) if grid is not None else ENCODINGS[name](native)


class _EncodedActions(gym.ActionWrapper):
    def __init__(self, env: gym.Env, encoding: ActionEncoding) -> None:
        super().__init__(env)
        self.encoding = encoding
        self.action_space = encoding.space

    def action(self, action: Any) -> dict[str, Any]:
        return self.encoding.decode_one(action)


class GridActions(_EncodedActions):
    """``MultiDiscrete([grid * grid, n_actions])``: a grid cell to fixate and the discrete choice.

    Args:
        env: a glimpse environment (classification or Catch).
        grid: fixation points per side (``grid * grid`` in all).
    """

    def __init__(self, env: gym.Env, grid: int = 5) -> None:
        super().__init__(env, GridEncoding(env.action_space, grid))


class DiscreteActions(_EncodedActions):
    """``Discrete(grid * grid * n_actions)``: fixation cell and choice in one integer (for DQN)."""

    def __init__(self, env: gym.Env, grid: int = 3) -> None:
        super().__init__(env, DiscreteEncoding(env.action_space, grid))


class BoxActions(_EncodedActions):
    """``Box(-1, 1, (2 + n_actions,))``: the location, then one score per choice (argmax wins)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env, BoxEncoding(env.action_space))
