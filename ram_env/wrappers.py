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

An env that lets the agent stop (``allow_stop=True``) or choose the scale (``zoom=(a, b)``)
adds to each encoding, in this order: the grid encodings a factor 2 for ``stop`` and a
factor ``zoom_levels`` (3: zooms -1, 0, 1) for ``zoom`` (``MultiDiscrete`` one entry each;
``Discrete`` ``a = ((cell * n_actions + choice) * n_stop + stop) * n_zoom + zoom``), the box
encoding one value each (``stop`` if > 0, then ``zoom`` itself).

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
    "glimpse_action_choice",
    "HistoryBuffer",
    "GlimpseHistory",
    "HidePrivilegedInfo",
    "strip_privileged",
    "PRIVILEGED_INFO",
]


def grid_locations(grid: int) -> np.ndarray:
    """float32 ``(grid * grid, 2)``: the ``(row, col)`` fixation of each grid cell."""
    centres = (2 * np.arange(grid) + 1) / grid - 1
    rows, cols = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([rows.ravel(), cols.ravel()], axis=1).astype(np.float32)


#: the parts of a glimpse action beside its one choice (``label`` or ``move``)
EXTRA_ACTIONS = ("location", "stop", "zoom")


def glimpse_action_parts(space: gym.Space) -> tuple[str, int]:
    """``(key, n)`` of a glimpse action space ``Dict(location, key=Discrete(n))``."""
    others = [k for k in getattr(space, "spaces", {}) if k not in EXTRA_ACTIONS]
    if not isinstance(space, spaces.Dict) or "location" not in space.spaces or len(others) != 1:
        raise ValueError(f"expected a glimpse env with Dict(location, <Discrete>[, stop, zoom]) actions, got {space}")
    key = others[0]
    choice = space.spaces[key]
    if not isinstance(choice, spaces.Discrete):
        raise ValueError(f"action {key!r} must be Discrete, got {choice}")
    return key, int(choice.n)


def glimpse_action_choice(space: gym.Space) -> tuple[str, int, float | None]:
    """``(key, n, bound)`` of ``Dict(location, key=Discrete(n))`` (``bound`` None) or of
    ``Dict(location, key=Box(-bound, bound, (n,)))`` class scores (``reward="cross_entropy"``)."""
    others = [k for k in getattr(space, "spaces", {}) if k not in EXTRA_ACTIONS]
    if isinstance(space, spaces.Dict) and "location" in space.spaces and len(others) == 1:
        key = others[0]
        choice = space.spaces[key]
        if isinstance(choice, spaces.Box) and len(choice.shape) == 1:
            return key, int(choice.shape[0]), float(choice.high.max())
    key, n = glimpse_action_parts(space)
    return key, n, None


class ActionEncoding:
    """A flat action space for a glimpse action space, with a batched decoder.

    When the native choice is a vector of class scores (``reward="cross_entropy"``), the
    grid encodings send ``bound`` for the chosen class and 0 for the others, and the box
    encoding sends its last values scaled to ``[-bound, bound]``.

    Attributes:
        space: the flat (single-env) action space.
        key: name of the discrete part of the native action (``"label"`` or ``"move"``).
    """

    space: gym.Space

    def __init__(self, native: gym.Space, zoom_levels: int = 3) -> None:
        self.key, self.n_actions, self.score_bound = glimpse_action_choice(native)
        self.stop = "stop" in native.spaces  # type: ignore[attr-defined]  # a Dict, checked above
        self.n_stop = 2 if self.stop else 1  # the extra factor the flat spaces carry for it
        self.zoom = "zoom" in native.spaces  # type: ignore[attr-defined]
        #: the zooms a discrete encoding offers, evenly spaced in [-1, 1]
        self.zoom_values = np.linspace(-1.0, 1.0, check_positive_int("zoom_levels", zoom_levels, 2), dtype=np.float32)
        self.n_zoom = len(self.zoom_values) if self.zoom else 1

    def decode(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        """Flat actions with a leading batch dimension -> ``{"location": (N, 2), key: (N,) or (N, n)}``."""
        raise NotImplementedError

    def _choice(self, chosen: np.ndarray) -> np.ndarray:
        """Chosen classes ``(N,)`` -> the native choice: themselves, or one-hot class scores."""
        if self.score_bound is None:
            return chosen.astype(np.int64)
        scores = np.zeros((len(chosen), self.n_actions), dtype=np.float32)
        scores[np.arange(len(chosen)), chosen] = self.score_bound
        return scores

    def decode_one(self, action: Any) -> dict[str, Any]:
        """One flat action -> the native dict action."""
        batch = self.decode(np.asarray(action)[None])
        choice = batch[self.key][0]
        one = {"location": batch["location"][0], self.key: choice if self.score_bound is not None else int(choice)}
        if self.stop:
            one["stop"] = int(batch["stop"][0])
        if self.zoom:
            one["zoom"] = batch["zoom"][0]
        return one

    def _with_extras(
        self, decoded: dict[str, np.ndarray], stop: np.ndarray | None, zoom: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """``decoded`` with the ``stop`` choices ``(N,)`` and ``zoom`` values ``(N,)`` the env takes."""
        if stop is not None:
            decoded["stop"] = stop.astype(np.int64)
        if zoom is not None:
            decoded["zoom"] = np.asarray(zoom, dtype=np.float32).reshape(-1, 1)
        return decoded

    def _invalid(self, actions: Any) -> InvalidAction:
        return InvalidAction(f"{type(self).__name__}: action {actions!r} is not in {self.space}")


class _FixationGrid(ActionEncoding):
    """An encoding whose fixations are the ``grid x grid`` points of :func:`grid_locations`."""

    def __init__(self, native: gym.Space, grid: int, zoom_levels: int = 3) -> None:
        super().__init__(native, zoom_levels)
        self.grid = check_positive_int("grid", grid)
        self.locations = grid_locations(self.grid)


class GridEncoding(_FixationGrid):
    """``MultiDiscrete([grid * grid, n_actions])``."""

    def __init__(self, native: gym.Space, grid: int = 5, zoom_levels: int = 3) -> None:
        super().__init__(native, grid, zoom_levels)
        nvec = [self.grid * self.grid, self.n_actions]
        nvec += ([2] if self.stop else []) + ([self.n_zoom] if self.zoom else [])
        self.space: spaces.MultiDiscrete = spaces.MultiDiscrete(nvec)

    def decode(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        a = np.asarray(actions)
        width = len(self.space.nvec)
        if (
            a.ndim != 2
            or a.shape[1] != width
            or a.dtype.kind not in "iu"
            or np.any(a < 0)
            or np.any(a >= self.space.nvec)
        ):
            raise self._invalid(actions)
        decoded = {"location": self.locations[a[:, 0]], self.key: self._choice(a[:, 1])}
        zoom = self.zoom_values[a[:, -1]] if self.zoom else None
        return self._with_extras(decoded, a[:, 2] if self.stop else None, zoom)


class DiscreteEncoding(_FixationGrid):
    """``Discrete(grid * grid * n_actions)``: action ``a`` = cell ``a // n_actions``, choice ``a % n_actions``."""

    def __init__(self, native: gym.Space, grid: int = 3, zoom_levels: int = 3) -> None:
        super().__init__(native, grid, zoom_levels)
        n = self.grid * self.grid * self.n_actions * self.n_stop * self.n_zoom
        self.space: spaces.Discrete = spaces.Discrete(n)

    def decode(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        a = np.asarray(actions)
        a = a.reshape(len(a)) if a.ndim == 2 and a.shape[1] == 1 else a
        if a.ndim != 1 or a.dtype.kind not in "iu" or np.any(a < 0) or np.any(a >= self.space.n):
            raise self._invalid(actions)
        zoom, a = a % self.n_zoom, a // self.n_zoom  # a = ((cell, choice) * n_stop + stop) * n_zoom + zoom
        stop, a = a % self.n_stop, a // self.n_stop
        decoded = {"location": self.locations[a // self.n_actions], self.key: self._choice(a % self.n_actions)}
        return self._with_extras(decoded, stop if self.stop else None, self.zoom_values[zoom] if self.zoom else None)


class BoxEncoding(ActionEncoding):
    """``Box(-1, 1, (2 + n_actions,))``: the location, then one score per choice (argmax wins)."""

    def __init__(self, native: gym.Space) -> None:
        super().__init__(native)
        self.space = spaces.Box(-1.0, 1.0, (2 + self.n_actions + int(self.stop) + int(self.zoom),), dtype=np.float32)

    def decode(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        a = np.asarray(actions, dtype=np.float32)
        if a.ndim != 2 or a.shape[1:] != self.space.shape or not np.all(np.isfinite(a)):
            raise self._invalid(actions)
        scores = a[:, 2 : 2 + self.n_actions]
        extras = a[:, 2 + self.n_actions :]  # stop, then zoom
        stop = (extras[:, 0] > 0) if self.stop else None
        zoom = np.clip(extras[:, -1], -1.0, 1.0) if self.zoom else None
        if self.score_bound is not None:  # class scores, scaled to the native bound
            decoded = {"location": np.clip(a[:, :2], -1.0, 1.0), self.key: np.clip(scores, -1, 1) * self.score_bound}
        else:
            decoded = {"location": np.clip(a[:, :2], -1.0, 1.0), self.key: np.argmax(scores, axis=1).astype(np.int64)}
        return self._with_extras(decoded, stop, zoom)


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


class HistoryBuffer:
    """The last ``k`` observations of ``n`` episodes, newest last, batched.

    The observation it gives is ``Dict(glimpse=Box(0, 1, (k, *glimpse_shape)),
    location=Box(-1, 1, (k, 2)), valid=Box(0, 1, (k,)))`` (and ``zoom=Box(-1, 1, (k, 1))``
    when the env has a zoom); ``valid`` marks the slots that hold a glimpse of this episode
    (early in an episode the oldest slots are zeros).
    """

    def __init__(self, num_envs: int, k: int, observation_space: spaces.Dict) -> None:
        self.k = check_positive_int("history", k)
        self.buffers: dict[str, np.ndarray] = {}
        history_spaces: dict[str, spaces.Space] = {}
        for name, space in observation_space.spaces.items():
            shape: tuple[int, ...] = tuple(space.shape or ())
            self.buffers[name] = np.zeros((num_envs, self.k, *shape), dtype=np.float32)
            low, high = float(np.min(space.low)), float(np.max(space.high))  # type: ignore[attr-defined]
            history_spaces[name] = spaces.Box(low, high, (self.k, *shape), dtype=np.float32)
        self.valid = np.zeros((num_envs, self.k), dtype=np.float32)
        history_spaces["valid"] = spaces.Box(0.0, 1.0, (self.k,), dtype=np.float32)
        self.space = spaces.Dict(history_spaces)

    @property
    def glimpse(self) -> np.ndarray:
        """float32 ``(n, k, *glimpse_shape)``."""
        return self.buffers["glimpse"]

    @property
    def location(self) -> np.ndarray:
        """float32 ``(n, k, 2)``."""
        return self.buffers["location"]

    def push(self, obs: dict[str, np.ndarray], ids: np.ndarray | None = None) -> None:
        """Append observations as the newest slot: ``obs`` rows for all envs, or for ``ids``."""
        rows = slice(None) if ids is None else ids
        for name, buffer in self.buffers.items():
            buffer[rows] = np.roll(buffer[rows], -1, axis=1)
            buffer[rows, -1] = obs[name]
        self.valid[rows] = np.roll(self.valid[rows], -1, axis=1)
        self.valid[rows, -1] = 1.0

    def clear(self, ids: np.ndarray) -> None:
        """Forget the history of rows ``ids`` (their episodes restarted)."""
        for buffer in self.buffers.values():
            buffer[ids] = 0.0
        self.valid[ids] = 0.0

    def observe(self, ids: np.ndarray | int | None = None) -> dict[str, np.ndarray]:
        rows = slice(None) if ids is None else ids
        out = {name: buffer[rows].copy() for name, buffer in self.buffers.items()}
        out["valid"] = self.valid[rows].copy()
        return out


class GlimpseHistory(gym.ObservationWrapper):
    """Observe the last ``k`` glimpses and their locations, so a memoryless policy can
    integrate what it saw: ``Dict(glimpse=(k, *glimpse_shape), location=(k, 2), valid=(k,))``,
    newest last (:class:`HistoryBuffer`).  For Stable-Baselines3 use
    ``SB3Agent(..., history=k)``, which does the same inside its batched VecEnv and pairs it
    with :class:`agents.baselines.extractors.HistoryExtractor`.
    """

    def __init__(self, env: gym.Env, k: int = 4) -> None:
        super().__init__(env)
        if not isinstance(env.observation_space, spaces.Dict) or "glimpse" not in env.observation_space.spaces:
            raise ValueError(f"GlimpseHistory needs Dict(glimpse, location) observations, got {env.observation_space}")
        self.history = HistoryBuffer(1, k, env.observation_space)
        self.observation_space = self.history.space

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.history.clear(np.zeros(1, dtype=np.int64))
        return super().reset(**kwargs)

    def observation(self, observation: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.history.push({k: np.asarray(v)[None] for k, v in observation.items()})
        return self.history.observe(0)


#: the info keys that reveal the answer (the label) or the hidden state (Catch): the *privileged* track's
PRIVILEGED_INFO = ("label", "state")


class HidePrivilegedInfo(gym.vector.VectorWrapper):
    """A native vector env whose infos carry no ``label`` or ``state``: what an agent of the
    *rl* track trains on, so it demonstrably learns from the reward alone."""

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        return obs, strip_privileged(info)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(actions)
        return obs, reward, terminated, truncated, strip_privileged(info)


def strip_privileged(info: dict[str, Any]) -> dict[str, Any]:
    """``info`` without the privileged keys (and their ``_key`` masks)."""
    hidden = set(PRIVILEGED_INFO) | {f"_{k}" for k in PRIVILEGED_INFO}
    return {k: v for k, v in info.items() if k not in hidden}
