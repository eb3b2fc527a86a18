"""Batched machinery shared by every glimpse environment.

A :class:`GlimpseTask` holds ``N`` independent episodes as arrays with a leading
dimension ``N`` and one random generator per episode slot.  The single-episode
:class:`GlimpseEnv` (a :class:`gymnasium.Env`) is that task with ``N = 1`` and the
:class:`GlimpseVectorEnv` (a :class:`gymnasium.vector.VectorEnv`) is the same task
with ``N`` slots and next-step autoreset, so a vector env equals ``N`` single envs by
construction: nothing about the task is written twice.
"""

from __future__ import annotations

import difflib
import inspect
import numbers
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self, TypeAlias

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ram_env import rendering
from ram_env.sensor import GlimpseSensor, Tables

__all__ = [
    "GlimpseTask",
    "GlimpseEnv",
    "GlimpseVectorEnv",
    "InvalidAction",
    "InitialLocation",
    "ZoomRange",
    "MIN_ZOOM_WIDTH",
    "RenderModes",
    "parse_initial_location",
    "parse_zoom",
    "zoom_widths",
]


class InvalidAction(ValueError):
    """An action that does not belong to the action space (shape, range, NaN, ...)."""


INITIAL_LOCATIONS = ("random", "center", "none")
#: what ``initial_location`` takes: one of :data:`INITIAL_LOCATIONS` or a ``(row, col)`` pair in ``[-1, 1]``
InitialLocation: TypeAlias = str | Sequence[float] | np.ndarray
#: what ``zoom`` takes: ``None`` or ``(min_width, max_width)`` in pixels
ZoomRange: TypeAlias = tuple[float, float] | None
#: the narrowest finest patch a zoom may read, in pixels: the sensor takes a cell's mean as
#: a difference of summed-area values, and for cells much narrower than a pixel that
#: difference sinks into float rounding (to NaN once the cell's area underflows)
MIN_ZOOM_WIDTH = 0.01


def _did_you_mean(value: str, choices: Sequence[str]) -> str:
    """``" (did you mean 'x'?)"`` for a near miss among ``choices``, else ``""``."""
    close = difflib.get_close_matches(value, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_initial_location(value: Any) -> str | np.ndarray:
    """``"random"``, ``"center"``, ``"none"`` (no first glimpse: the agent chooses every
    fixation) or a ``(row, col)`` pair in ``[-1, 1]``; anything else raises a ``ValueError``
    naming ``initial_location`` and what it takes."""
    expected = "initial_location must be 'random', 'center', 'none' or (row, col) in [-1, 1]"
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "U":
        value = str(value)  # a numpy string is a string
    if isinstance(value, str):
        if value not in INITIAL_LOCATIONS:
            raise ValueError(f"{expected}, got {value!r}{_did_you_mean(value, INITIAL_LOCATIONS)}")
        return value
    try:
        loc = np.asarray(value, dtype=np.float64) if not isinstance(value, (bytes, dict, set)) else np.zeros(0)
    except (TypeError, ValueError):
        loc = np.zeros(0)
    if loc.shape != (2,) or not np.all(np.isfinite(loc)) or np.any(np.abs(loc) > 1):
        raise ValueError(f"{expected}, got {value!r:.80}")
    return loc


def parse_zoom(value: Any) -> tuple[float, float] | None:
    """``None`` (fixed scale) or ``(min_width, max_width)``: the range of finest-patch widths,
    in pixels, that the ``zoom`` action chooses from (``MIN_ZOOM_WIDTH <= min_width < max_width``)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, dict)):
        raise ValueError(f"zoom must be None or (min_width, max_width) in pixels, got {value!r}")
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"zoom must be None or (min_width, max_width) in pixels, got {value!r}") from None
    numbers_ok = not any(isinstance(v, (bool, np.bool_)) for v in value)
    if not (numbers_ok and np.isfinite(high) and MIN_ZOOM_WIDTH <= low < high):
        raise ValueError(
            f"zoom must be (min_width, max_width) in pixels with 0 < min_width < max_width and min_width >= "
            f"{MIN_ZOOM_WIDTH:g} (a narrower finest patch is below the sensor's float precision), got {value!r}"
        )
    return low, high


def zoom_widths(zoom: np.ndarray, zoom_range: tuple[float, float]) -> np.ndarray:
    """Zoom actions in ``[-1, 1]`` ``(N,)`` -> finest-patch widths in pixels ``(N,)``: geometric,
    ``min_width`` at -1, ``max_width`` at +1, their geometric mean at 0 (equal steps of the
    action are equal ratios of scale)."""
    low, high = zoom_range
    z = np.clip(np.asarray(zoom, dtype=np.float64), -1.0, 1.0)
    return low * (high / low) ** ((z + 1.0) / 2.0)


def task_keywords(task_class: type[GlimpseTask]) -> list[str]:
    """The keywords of ``task_class`` (but ``num_envs``), in order."""
    return [p for p in inspect.signature(task_class.__init__).parameters if p not in ("self", "num_envs")]


def env_keywords(env_class: Any) -> list[str]:
    """The keywords a :class:`GlimpseEnv` or :class:`GlimpseVectorEnv` class takes: those of its
    ``__init__``, or, for an ``__init__`` that passes ``**kwargs`` on, its task's as well."""
    params = inspect.signature(env_class.__init__).parameters
    named = [n for n, p in params.items() if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return named
    leading = [n for n in named if n != "render_mode"]
    return [*leading, *task_keywords(env_class.task_class), "render_mode"]


def check_keywords(env_class: Any, kwargs: Mapping[str, Any]) -> None:
    """``ValueError`` naming the keywords of ``kwargs`` that ``env_class`` does not take."""
    valid = env_keywords(env_class)
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        hint = _did_you_mean(unknown[0], valid) if len(unknown) == 1 else ""
        raise ValueError(
            f"unknown keyword argument(s) {unknown} for {env_class.__name__}{hint}; valid keywords: {valid}"
        )


def passed_on(values: dict[str, Any]) -> dict[str, Any]:
    """The task's keywords among an env constructor's ``locals()`` (all but ``self``,
    ``num_envs`` and ``render_mode``), for an ``__init__`` that spells them out."""
    return {k: v for k, v in values.items() if k not in ("self", "__class__", "num_envs", "render_mode")}


def info_at(arrays: Mapping[str, np.ndarray], i: int) -> dict[str, Any]:
    """Env ``i``'s entry of batched info arrays: ``(N,)`` arrays give Python scalars,
    ``(N, d)`` arrays (e.g. Catch's ``info["state"]``) a copy of row ``i``."""
    return {k: v[i].item() if v.ndim == 1 else v[i].copy() for k, v in arrays.items()}


def check_memory(num_envs: int, sensor: GlimpseSensor, image_shape: tuple[int, int]) -> None:
    """Refuse, before allocating, a batch whose arrays would take more than half the
    machine's memory (``ValueError`` naming ``num_envs`` and the image size)."""
    h, w = image_shape
    side = 2 * sensor.pad + 1
    tables = 8 * (h + side) * (w + side) * (sensor.n_scales if sensor.reduction == "max" else 1)  # one per scale
    per_env = tables + 2 * h * w + 4 * int(np.prod(sensor.shape))  # tables, images, glimpse
    need = num_envs * per_env
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 64 * 2**30
    if need > total / 2:
        raise ValueError(
            f"num_envs={num_envs:,} with {h}x{w} images would need about {need / 2**30:,.1f} GiB, more than half "
            f"of this machine's {total / 2**30:,.0f} GiB; use fewer envs or smaller images"
        )


def check_positive_int(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


class GlimpseTask(ABC):
    """``N`` episodes of a task observed through a :class:`GlimpseSensor`.

    Subclasses define the images, the discrete part of the action and the rules:
    :meth:`_start` (new episodes), :meth:`_advance` (one step) and :meth:`_info`.
    Observations are ``Dict(glimpse=Box(0, 1, (k, g, g)), location=Box(-1, 1, (2,)))``
    and actions ``Dict(location=Box(-1, 1, (2,)), <action_key>=Discrete(n))``.

    Attributes (all with leading dimension ``N``):
        glimpse: float32 ``(N, k, g, g)``, the current observation.
        location: float32 ``(N, 2)``, where it was taken (clipped to ``[-1, 1]``).
        path: float32 ``(N, max_steps + 1, 2)`` and ``path_length`` int ``(N,)``:
            every location glimpsed this episode, for rendering.
        done: bool ``(N,)``, the episode in that slot has ended.
    """

    action_key: str = "label"
    kind: Literal["classification", "control"] = "classification"
    #: the discrete part of the action is a vector of scores (``Box``) rather than a choice
    choice_scores: bool = False
    #: bound of the scores when ``choice_scores`` (the action space is ``Box(-s, s, (n,))``)
    score_bound: float = 10.0
    #: the action has a ``stop`` choice (``Discrete(2)``: 1 ends the episode now)
    allow_stop: bool = False
    #: ``(min_width, max_width)``: the action has a ``zoom`` (``Box(-1, 1, (1,))``) choosing the
    #: next glimpse's finest-patch width in that range, and the observation says its zoom
    zoom_range: tuple[float, float] | None = None
    metadata: dict[str, Any] = {"render_fps": 4}

    def __init__(
        self,
        num_envs: int,
        sensor: GlimpseSensor,
        image_shape: tuple[int, int],
        n_actions: int,
        max_steps: int,
        initial_location: Any = "random",
        channels: int = 1,
        zoom: Any = None,
    ) -> None:
        self.num_envs = check_positive_int("num_envs", num_envs)
        self.zoom_range = parse_zoom(zoom)
        if self.zoom_range is not None and self.zoom_range[1] > sensor.max_width + 1e-9:
            raise ValueError(f"zoom up to {self.zoom_range[1]:g} pixels needs a sensor with max_width >= it")
        self.channels = check_positive_int("channels", channels)
        k, g = sensor.n_scales, sensor.glimpse_size
        #: one glimpse: ``(k, g, g)``, or ``(k, c, g, g)`` for images of ``c`` channels
        self.glimpse_shape: tuple[int, ...] = sensor.shape if channels == 1 else (k, channels, g, g)
        if sensor.patch_sizes[-1] > 4 * max(image_shape):
            raise ValueError(
                f"the largest glimpse patch ({sensor.patch_sizes[-1]:,.0f} pixels: glimpse_size={sensor.glimpse_size}, "
                f"n_scales={sensor.n_scales}, scale_factor={sensor.scale_factor:g}) is more than 4 times the "
                f"{image_shape[0]}x{image_shape[1]} image; use fewer scales or a smaller scale_factor"
            )
        if self.zoom_range is not None and self.zoom_range[1] * sensor.cell_sizes[-1] > 4 * max(image_shape):
            raise ValueError(
                f"zoom up to {self.zoom_range[1]:g} pixels makes the largest patch "
                f"{self.zoom_range[1] * sensor.cell_sizes[-1]:,.0f} pixels, more than 4 times the "
                f"{image_shape[0]}x{image_shape[1]} image; use a smaller max_width or fewer scales"
            )
        check_memory(self.num_envs * self.channels, sensor, image_shape)
        self.sensor = sensor
        self.image_shape = image_shape
        self.n_actions = n_actions
        self.max_steps = max_steps
        self.initial_location = parse_initial_location(initial_location)
        if sensor.patch_sizes[0] > max(image_shape):
            raise ValueError(
                f"glimpse_size {sensor.glimpse_size} is larger than the {image_shape[0]}x{image_shape[1]} image"
            )
        observation_spaces: dict[str, spaces.Space] = {
            "glimpse": spaces.Box(0.0, 1.0, self.glimpse_shape, dtype=np.float32),
            "location": spaces.Box(-1.0, 1.0, (2,), dtype=np.float32),
        }
        if self.zoom_range is not None:
            observation_spaces["zoom"] = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self.single_observation_space = spaces.Dict(observation_spaces)
        choice_space: spaces.Space = (
            spaces.Box(-self.score_bound, self.score_bound, (n_actions,), dtype=np.float32)
            if self.choice_scores
            else spaces.Discrete(n_actions)
        )
        action_spaces: dict[str, spaces.Space] = {
            "location": spaces.Box(-1.0, 1.0, (2,), dtype=np.float32),
            self.action_key: choice_space,
        }
        if self.allow_stop:
            action_spaces["stop"] = spaces.Discrete(2)
        if self.zoom_range is not None:
            action_spaces["zoom"] = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self.single_action_space = spaces.Dict(action_spaces)
        n = self.num_envs
        self.rngs: list[np.random.Generator] = [seeding.np_random(None)[0] for _ in range(n)]
        self.glimpse = np.zeros((n,) + self.glimpse_shape, dtype=np.float32)
        self.location = np.zeros((n, 2), dtype=np.float32)
        self.zoom = np.zeros((n, 1), dtype=np.float32)  #: the current glimpse's zoom (with a zoom range)
        self._next_zoom = np.zeros(n, dtype=np.float64)  # the zoom the next glimpse is read at
        self.path = np.zeros((n, max_steps + 1, 2), dtype=np.float32)
        self.path_length = np.zeros(n, dtype=np.int64)
        self.steps = np.zeros(n, dtype=np.int64)
        self.done = np.ones(n, dtype=bool)
        self.blank_start = np.zeros(n, dtype=bool)  #: the episode began with no glimpse
        self.started = False
        self._integral: Tables | None = None  # the sensor's tables of the N current images

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def _start(self, ids: np.ndarray, options: Mapping[str, Any]) -> np.ndarray:
        """Begin new episodes in slots ``ids``; return their initial locations ``(len(ids), 2)``.

        Must set the images (via :meth:`_set_images`) and draw from ``self.rngs[i]``.
        """

    @abstractmethod
    def _advance(self, ids: np.ndarray, locations: np.ndarray, choices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step of the episodes in ``ids``; return ``(reward float (n,), terminated bool (n,))``.

        Non-terminal steps must take their glimpse (via :meth:`_look`).
        """

    @abstractmethod
    def _info(self) -> dict[str, np.ndarray]:
        """Per-slot info arrays with leading dimension ``N``."""

    @abstractmethod
    def frame_image(self, i: int) -> np.ndarray:
        """The full uint8 ``(H, W)`` image of slot ``i``, for rendering."""

    # ------------------------------------------------------------------ shared
    def seed(self, seeds: Sequence[int | None]) -> None:
        """Re-seed slot ``i`` with ``seeds[i]`` (``None`` keeps its generator) and start the
        episodes the seeds name (:meth:`start_sequence`)."""
        for i, s in enumerate(seeds):
            if s is not None:
                self.rngs[i] = seeding.np_random(int(s))[0]
        self.start_sequence(seeds)

    def start_sequence(self, seeds: Sequence[int | None]) -> None:  # noqa: B027 - optional hook
        """Hook for tasks whose seed names the episode: slot ``i``'s sequence of episodes starts
        at the one ``seeds[i]`` names (``None``: the slot goes on where it is).

        The classification tasks' fixed splits show image ``seeds[i] mod N`` next.
        """

    def uniforms(self, ids: np.ndarray, width: int) -> np.ndarray:
        """``width`` uniforms from each slot's own generator: float64 ``(len(ids), width)``."""
        return np.stack([self.rngs[i].random(width) for i in ids]) if len(ids) else np.zeros((0, width))

    def initial_locations(self, u: np.ndarray, options: Mapping[str, Any]) -> np.ndarray:
        """First fixations from two uniforms per slot ``u`` ``(n, 2)``, honouring options."""
        mode = self.initial_location
        if "initial_location" in options:
            mode = parse_initial_location(options["initial_location"])
        if isinstance(mode, np.ndarray):
            return np.broadcast_to(mode, u.shape).copy()
        if mode == "center":
            return np.zeros_like(u)
        if mode == "none":  # no first glimpse (see reset)
            return np.full_like(u, np.nan)
        return u * 2.0 - 1.0

    def reset(self, ids: np.ndarray, options: Mapping[str, Any] | None = None) -> None:
        """Start new episodes in slots ``ids`` and take their first glimpse."""
        if options is not None and not isinstance(options, Mapping):
            raise TypeError(
                f"options must be a dict (or None), e.g. {{'initial_location': 'center'}}, got {options!r:.60}"
            )
        options = {} if options is None else dict(options)
        unknown = set(options) - self.reset_options
        if unknown:
            raise ValueError(f"unknown reset option(s) {sorted(unknown)}; known: {sorted(self.reset_options)}")
        locations = self._start(ids, options)
        self.steps[ids] = 0
        self.path_length[ids] = 0
        self.done[ids] = False
        blank = np.isnan(locations[:, 0])  # initial_location="none": an empty first observation
        self.blank_start[ids] = blank
        self.glimpse[ids[blank]] = 0.0
        self.location[ids[blank]] = 0.0
        self.zoom[ids[blank]] = 0.0
        self._next_zoom[ids] = 0.0  # the first glimpse: the middle of the zoom range
        self._look(ids[~blank], locations[~blank])
        self.started = True

    reset_options = frozenset({"initial_location"})

    def step(self, ids: np.ndarray, action: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Advance slots ``ids`` with a checked batched action; return ``(reward, terminated)``."""
        self.steps[ids] += 1
        self.stopping = action["stop"][ids] > 0 if self.allow_stop else np.zeros(len(ids), dtype=bool)
        if self.zoom_range is not None:
            self._next_zoom[ids] = np.clip(action["zoom"][ids, 0], -1.0, 1.0)
        reward, terminated = self._advance(ids, action["location"][ids], action[self.action_key][ids])
        self.done[ids] = terminated
        return reward, terminated

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the summed-area tables of slots ``ids``: one per slot, or per slot and channel."""
        c = self.channels
        return ids if c == 1 else (np.asarray(ids)[:, None] * c + np.arange(c)).ravel()

    def _set_images(self, ids: np.ndarray, images: np.ndarray) -> None:
        """Install new images in slots ``ids`` (sorted, unique; ``images``: ``(len(ids), H, W)``,
        or ``(len(ids), H, W, c)`` for colour: each channel gets its own table)."""
        if self.channels > 1:
            images = np.moveaxis(images, -1, 1).reshape(-1, *images.shape[1:3])
        table = self.sensor.tables(images)
        if len(ids) == self.num_envs:  # every slot: ids is arange(N)
            self._integral = table
        elif self._integral is None:
            raise RuntimeError("the first episodes must start in every slot at once")
        else:
            self._integral.table[self._rows(ids)] = table.table

    def _look(self, ids: np.ndarray, locations: np.ndarray) -> None:
        """Take the glimpse of slots ``ids`` at ``locations`` ``(len(ids), 2)`` (clipped)."""
        loc = np.clip(locations, -1.0, 1.0).astype(np.float32)
        assert self._integral is not None, "episodes start (reset) before glimpses are read"
        c = self.channels
        widths = self.widths(ids)
        if c == 1:
            read = self.sensor.read(self._integral, loc, index=ids, widths=widths)
            # a zoomed read interpolates the sums: keep their float rounding inside [0, 1]
            self.glimpse[ids] = read if widths is None else np.clip(read, 0.0, 1.0)
        else:  # every channel at the same place: (n * c, k, g, g) -> (n, k, c, g, g)
            read = self.sensor.read(
                self._integral,
                np.repeat(loc, c, axis=0),
                index=self._rows(ids),
                widths=None if widths is None else np.repeat(widths, c),
            )
            read = read if widths is None else np.clip(read, 0.0, 1.0)
            self.glimpse[ids] = read.reshape(len(ids), c, *read.shape[1:]).swapaxes(1, 2)
        self.location[ids] = loc
        self.zoom[ids, 0] = self._next_zoom[ids]
        self.path[ids, self.path_length[ids]] = loc
        self.path_length[ids] += 1

    def widths(self, ids: np.ndarray) -> np.ndarray | None:
        """Finest-patch widths in pixels ``(len(ids),)`` of the glimpses slots ``ids`` read next
        (``None`` without a zoom range: the sensor's fixed ``glimpse_size``)."""
        if self.zoom_range is None:
            return None
        return zoom_widths(self._next_zoom[ids], self.zoom_range)

    def observe(self, ids: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Copies of the current observations (all slots, or ``ids``)."""
        rows = slice(None) if ids is None else ids
        obs = {"glimpse": self.glimpse[rows].copy(), "location": self.location[rows].copy()}
        if self.zoom_range is not None:
            obs["zoom"] = self.zoom[rows].copy()
        return obs

    def check_action(self, action: Any, batched: bool) -> dict[str, np.ndarray]:
        """Validate an action; return it batched: ``location`` float64 ``(N, 2)``, choice int64 ``(N,)``."""
        key = self.action_key
        keys = {"location", key} | ({"stop"} if self.allow_stop else set()) | ({"zoom"} if self.zoom_range else set())
        if not isinstance(action, Mapping) or set(action) != keys:
            got = sorted(action) if isinstance(action, Mapping) else type(action).__name__
            raise InvalidAction(f"action must be a dict with keys {sorted(keys)}, got {got}")
        stop = self._check_stop(action["stop"], batched) if self.allow_stop else None
        extra = {} if stop is None else {"stop": stop}
        if self.zoom_range is not None:
            extra["zoom"] = self._check_zoom(action["zoom"], batched)
        n = self.num_envs
        loc_shape, choice_shape = ((n, 2), (n,)) if batched else ((2,), ())
        try:
            location = np.asarray(action["location"], dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise InvalidAction(f"action['location'] is not numeric: {action['location']!r}") from err
        if location.shape != loc_shape:
            raise InvalidAction(f"action['location'] must have shape {loc_shape}, got {location.shape}")
        if not np.all(np.isfinite(location)):
            if batched:
                i = int(np.flatnonzero(~np.isfinite(location).all(1))[0])
                raise InvalidAction(f"action['location'] must be finite: env {i} of {n} has {location[i].tolist()}")
            raise InvalidAction(f"action['location'] must be finite, got {location.tolist()}")
        raw = np.asarray(action[key])
        if self.choice_scores:
            return {"location": location if batched else location[None], key: self._check_scores(raw, batched), **extra}
        if (
            raw.shape != choice_shape
            or raw.dtype.kind not in "iuf"
            or (raw.dtype.kind == "f" and (not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw))))
        ):
            shown = repr(action[key]) if raw.size <= 8 else f"{raw.dtype} array of shape {raw.shape}"
            raise InvalidAction(
                f"action['{key}'] must be {'an int array of shape ' + str(choice_shape) if batched else 'an int'}"
                f" in [0, {self.n_actions}), got {shown}"
            )
        choice = raw.astype(np.int64)
        bad = (choice < 0) | (choice >= self.n_actions)
        if np.any(bad):
            where = f"env {int(np.flatnonzero(bad)[0])} of {n} has {int(choice.flat[np.flatnonzero(bad)[0]])}"
            raise InvalidAction(f"action['{key}'] must be in [0, {self.n_actions}): {where if batched else choice}")
        if not batched:
            location, choice = location[None], choice[None]
        return {"location": location, key: choice, **extra}

    def _check_stop(self, raw: Any, batched: bool) -> np.ndarray:
        """The ``stop`` choices as int64 ``(N,)`` in {0, 1}."""
        value = np.asarray(raw)
        shape = (self.num_envs,) if batched else ()
        if value.shape != shape or value.dtype.kind not in "iub" or np.any((value != 0) & (value != 1)):
            raise InvalidAction(
                f"action['stop'] must be {'(N,) ints' if batched else 'an int'} 0 or 1, got {raw!r:.60}"
            )
        return value.astype(np.int64).reshape(-1)

    def _check_zoom(self, raw: Any, batched: bool) -> np.ndarray:
        """The ``zoom`` actions as float64 ``(N, 1)`` (clipped to ``[-1, 1]``; NaN/inf raise)."""
        shape = (self.num_envs, 1) if batched else (1,)
        try:
            value = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidAction(f"action['zoom'] is not numeric: {raw!r:.60}") from None
        if value.shape != shape:
            raise InvalidAction(f"action['zoom'] must have shape {shape}, got {value.shape}")
        if not np.all(np.isfinite(value)):
            where = f"env {int(np.flatnonzero(~np.isfinite(value[:, 0]))[0])} of {self.num_envs}" if batched else "it"
            raise InvalidAction(f"action['zoom'] must be finite: {where} is {value[~np.isfinite(value)][0]}")
        return np.clip(value, -1.0, 1.0).reshape(-1, 1)

    def _check_scores(self, raw: np.ndarray, batched: bool) -> np.ndarray:
        """Class scores ``(N, n)`` float64 (values beyond the bound are clipped, NaN/inf raise)."""
        shape = (self.num_envs, self.n_actions) if batched else (self.n_actions,)
        key = self.action_key
        if raw.shape != shape or raw.dtype.kind not in "iuf":
            raise InvalidAction(f"action['{key}'] must be {shape} class scores, got {raw.dtype} {raw.shape}")
        scores = raw.astype(np.float64)
        if not np.all(np.isfinite(scores)):
            raise InvalidAction(f"action['{key}'] class scores must be finite")
        scores = np.clip(scores, -self.score_bound, self.score_bound)
        return scores if batched else scores[None]

    def info(self, ids: np.ndarray | None = None) -> dict[str, np.ndarray]:
        info = self._info()
        return info if ids is None else {k: v[ids] for k, v in info.items()}

    def render_frame(self, i: int) -> np.ndarray:
        """uint8 ``(H', W', 3)``: slot ``i``'s image upscaled, retina squares and glimpse path."""
        image = self.frame_image(i)
        length = int(self.path_length[i])
        if not length:
            boxes = np.zeros((0, 4))
        else:  # the current glimpse's patches, at its zoom
            width = None if self.zoom_range is None else zoom_widths(self.zoom[i], self.zoom_range)
            boxes = self.sensor.patch_boxes(self.location[i], *self.image_shape, widths=width)
        return rendering.draw_glimpses(image, boxes=boxes, path=self.path[i, :length])


class RenderModes(list[str]):
    """An env's render modes: a list of strings, whose ``in`` answers True for a value that is
    not a string at all.

    ``gym.make`` looks a ``render_mode`` up in ``metadata["render_modes"]`` before it builds
    the env, and for one not in it calls ``render_mode.endswith("_list")``, which fails
    (``AttributeError``) on ``render_mode=1``.  Letting non-strings through hands them to the
    constructor, whose ``ValueError`` names ``render_mode`` and the modes it takes; strings
    (``"rgb_array_list"``, ...) still get gymnasium's wrappers.
    """

    def __contains__(self, item: object) -> bool:
        return not isinstance(item, str) or super().__contains__(item)


class GlimpseEnv(gym.Env):
    """One episode of a :class:`GlimpseTask` (the task with ``N = 1``).

    Subclasses set ``task_class`` and spell their keywords out in an ``__init__`` that hands
    them to this one.  A subclass that sets a ``task_class`` but has no ``__init__`` of its
    own passes its keywords through to its task (``**kwargs``), rather than taking its
    parent's, which are another task's.  Unknown keywords raise a ``ValueError`` naming them.
    """

    task_class: type[GlimpseTask]
    metadata: dict[str, Any] = {"render_modes": RenderModes(["rgb_array", "human"]), "render_fps": 4}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "task_class" in cls.__dict__ and "__init__" not in cls.__dict__:
            cls.__init__ = GlimpseEnv.__init__  # type: ignore[method-assign]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        check_keywords(cls, kwargs)  # a ValueError naming them, not Python's TypeError
        return super().__new__(cls)

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        _check_render_mode(render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        self.task = self.task_class(num_envs=1, **kwargs)  # keywords checked by __new__
        self.observation_space = self.task.single_observation_space
        self.action_space = self.task.single_action_space
        self._window: rendering.Window | None = None
        self._ids = np.zeros(1, dtype=np.int64)
        self._last: tuple[int, float] | None = None  # the last step's choice and reward (human rendering)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.task.rngs[0] = self.np_random
        if seed is not None:
            self.task.start_sequence([seed])
        self.task.reset(self._ids, options)
        if self.render_mode == "human":
            self.render()
        return self._obs(), self._single_info()

    def step(self, action: Any):
        if not self.task.started:
            raise RuntimeError("step() called before reset()")
        if self.task.done[0]:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        batched = self.task.check_action(action, batched=False)
        reward, terminated = self.task.step(self._ids, batched)
        choice = np.asarray(batched[self.task.action_key][0])
        self._last = (int(choice.argmax() if choice.ndim else choice), float(reward[0]))
        if self.render_mode == "human":
            self.render()
        return self._obs(), float(reward[0]), bool(terminated[0]), False, self._single_info()

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'")
            return None
        if not self.task.started:
            raise RuntimeError("render() called before reset()")
        frame = self.task.render_frame(0)
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            title = f"ram-gym: {self.spec.id}" if self.spec is not None else f"ram-gym: {type(self).__name__}"
            self._window = rendering.Window(title, fps=self.metadata["render_fps"])
        self._window.show(frame, text=self._status())
        return None

    def _status(self) -> str:
        """The human window's status line: the step, and the outcome once the episode ended."""
        task = self.task
        info = self._single_info()
        last = self._last
        if task.kind == "classification":
            total = int(task.max_steps) - 1 + int(task.blank_start[0])
            text = f"step {int(task.steps[0])}/{total}   true label {info.get('label')}"
            if task.done[0] and last is not None:
                text += f"   said {last[0]}: {'right' if last[1] > 0 else 'wrong'} (reward {last[1]:g})"
            return text
        text = f"step {int(task.steps[0])}/{int(task.max_steps)}"
        if task.done[0] and last is not None:
            text += f"   {'caught' if last[1] > 0 else 'missed'} (reward {last[1]:g})"
        return text

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

    def _obs(self) -> Any:
        obs = self.task.observe(self._ids)
        if isinstance(obs, dict):
            return {k: v[0].copy() for k, v in obs.items()}
        return obs[0].copy()

    def _single_info(self) -> dict[str, Any]:
        return info_at(self.task.info(), 0)


class GlimpseVectorEnv(VectorEnv):
    """``num_envs`` episodes of a :class:`GlimpseTask`, stepped together (next-step autoreset).

    ``reset(seed=s)`` seeds slot ``i`` with ``s + i``, as :class:`~gymnasium.vector.SyncVectorEnv`
    does, so slot ``i`` starts exactly the episode of a single env reset with seed ``s + i``
    (and, where episodes are drawn from the generators, plays the same ones after it).

    Keywords as :class:`GlimpseEnv`'s (subclasses spell them out; ``num_envs`` first).
    """

    task_class: type[GlimpseTask]
    metadata: dict[str, Any] = {
        "render_modes": RenderModes(["rgb_array"]),
        "render_fps": 4,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "task_class" in cls.__dict__ and "__init__" not in cls.__dict__:
            cls.__init__ = GlimpseVectorEnv.__init__  # type: ignore[method-assign]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        check_keywords(cls, kwargs)
        return super().__new__(cls)

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, **kwargs: Any) -> None:
        _check_render_mode(render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        self.task = self.task_class(num_envs=num_envs, **kwargs)  # keywords checked by __new__
        self.num_envs = self.task.num_envs
        self.single_observation_space = self.task.single_observation_space
        self.single_action_space = self.task.single_action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._all = np.arange(self.num_envs)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)

    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None):
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, numbers.Integral):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        elif isinstance(seed, str) or not isinstance(seed, Sequence):
            raise TypeError(f"seed must be an int, a sequence of {self.num_envs} ints or None, got {seed!r}")
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"got {len(seeds)} seeds for {self.num_envs} environments")
        for i, s in enumerate(seeds):
            if s is not None and (isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0):
                raise ValueError(f"seed of env {i} must be an int >= 0 or None, got {s!r}")
        self.task.seed(seeds)
        self.task.reset(self._all, options)
        self._autoreset[:] = False
        return self.task.observe(), self._vector_info(self._all)

    def step(self, actions: Any):
        if not self.task.started:
            raise RuntimeError("step() called before reset()")
        batched = self.task.check_action(actions, batched=True)
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        restart = np.flatnonzero(self._autoreset)
        running = np.flatnonzero(~self._autoreset)
        if running.size:
            rewards[running], terminated[running] = self.task.step(running, batched)
        if restart.size:
            self.task.reset(restart)
        self._autoreset = terminated | truncated
        return self.task.observe(), rewards, terminated, truncated, self._vector_info(self._all)

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        if not self.task.started:
            raise RuntimeError("render() called before reset()")
        return tuple(self.task.render_frame(i) for i in range(self.num_envs))

    def _vector_info(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        info: dict[str, np.ndarray] = {}
        for key, value in self.task.info(ids).items():
            info[key] = value
            info["_" + key] = np.ones(len(ids), dtype=bool)
        return info


def _check_render_mode(render_mode: Any, modes: list[str]) -> None:
    if render_mode is not None and not (isinstance(render_mode, str) and render_mode in modes):
        raise ValueError(f"render_mode must be one of {list(modes)} or None, got {render_mode!r:.60}")
