"""Flat action encodings for libraries without ``Dict`` actions (e.g. Stable-Baselines3).

The glimpse environments act with ``Dict(location=Box(-1, 1, (2,)), <key>=Discrete(n))``.
Stable-Baselines3 accepts ``Box``, ``Discrete``, ``MultiDiscrete`` and ``MultiBinary``
actions only, so these wrappers re-encode the action (the observation is unchanged: SB3
takes ``Dict`` observations with ``MultiInputPolicy``):

======================  ===================================  =============================
wrapper                 action space                         decoded as
======================  ===================================  =============================
``GridActions(n)``      ``MultiDiscrete([n * n, n_actions])``  fixation on an n x n grid, choice
``DiscreteActions(n)``  ``Discrete(n * n * n_actions)``        the same, flattened (for DQN)
``BoxActions()``        ``Box(-1, 1, (2 + n_actions,))``       location, then argmax of the rest
======================  ===================================  =============================

Grid fixations are the centres of an ``n x n`` tiling of ``[-1, 1]^2``, numbered row by
row: cell ``i`` is at ``(row, col) = ((2 * (i // n) + 1) / n - 1, (2 * (i % n) + 1) / n - 1)``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["GridActions", "DiscreteActions", "BoxActions", "grid_locations"]


def grid_locations(grid: int) -> np.ndarray:
    """float32 ``(grid * grid, 2)``: the ``(row, col)`` fixation of each grid cell."""
    centres = (2 * np.arange(grid) + 1) / grid - 1
    rows, cols = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([rows.ravel(), cols.ravel()], axis=1).astype(np.float32)


def _glimpse_action_parts(env: gym.Env) -> tuple[str, int]:
    space = env.action_space
    if not isinstance(space, spaces.Dict) or "location" not in space.spaces or len(space.spaces) != 2:
        raise ValueError(f"expected a glimpse env with Dict(location, <Discrete>) actions, got {space}")
    key = next(k for k in space.spaces if k != "location")
    choice = space.spaces[key]
    if not isinstance(choice, spaces.Discrete):
        raise ValueError(f"action {key!r} must be Discrete, got {choice}")
    return key, int(choice.n)


class _GlimpseActionWrapper(gym.ActionWrapper):
    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.key, self.n_actions = _glimpse_action_parts(env)

    def _invalid(self, action: Any) -> ValueError:
        from ram_env.core import InvalidAction

        return InvalidAction(f"{type(self).__name__}: action {action!r} is not in {self.action_space}")


class GridActions(_GlimpseActionWrapper):
    """``MultiDiscrete([grid * grid, n_actions])``: a grid cell to fixate and the discrete choice.

    Args:
        env: a glimpse environment (classification or Catch).
        grid: fixation points per side (``grid * grid`` in all).
    """

    def __init__(self, env: gym.Env, grid: int = 5) -> None:
        super().__init__(env)
        if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 1:
            raise ValueError(f"grid must be a positive integer, got {grid!r}")
        self.grid = int(grid)
        self.locations = grid_locations(self.grid)
        self.action_space = spaces.MultiDiscrete([self.grid * self.grid, self.n_actions])

    def action(self, action: Any) -> dict[str, Any]:
        a = np.asarray(action)
        if a.shape != (2,) or a.dtype.kind not in "iu" or not self.action_space.contains(a.astype(np.int64)):
            raise self._invalid(action)
        return {"location": self.locations[int(a[0])], self.key: int(a[1])}


class DiscreteActions(_GlimpseActionWrapper):
    """``Discrete(grid * grid * n_actions)``: fixation cell and choice in one integer.

    Action ``a`` means cell ``a // n_actions`` and choice ``a % n_actions``.
    """

    def __init__(self, env: gym.Env, grid: int = 3) -> None:
        super().__init__(env)
        if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 1:
            raise ValueError(f"grid must be a positive integer, got {grid!r}")
        self.grid = int(grid)
        self.locations = grid_locations(self.grid)
        self.action_space = spaces.Discrete(self.grid * self.grid * self.n_actions)

    def action(self, action: Any) -> dict[str, Any]:
        a = np.asarray(action)
        if (
            a.shape not in ((), (1,))
            or a.dtype.kind not in "iu"
            or not 0 <= int(a.reshape(-1)[0]) < self.action_space.n
        ):
            raise self._invalid(action)
        value = int(a.reshape(-1)[0])
        return {"location": self.locations[value // self.n_actions], self.key: value % self.n_actions}


class BoxActions(_GlimpseActionWrapper):
    """``Box(-1, 1, (2 + n_actions,))``: the location, then one score per choice (argmax wins)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.action_space = spaces.Box(-1.0, 1.0, (2 + self.n_actions,), dtype=np.float32)

    def action(self, action: Any) -> dict[str, Any]:
        a = np.asarray(action, dtype=np.float32)
        if a.shape != self.action_space.shape or not np.all(np.isfinite(a)):
            raise self._invalid(action)
        return {"location": np.clip(a[:2], -1.0, 1.0), self.key: int(np.argmax(a[2:]))}
