"""Pictures of what an agent does: glimpse-path grids, episode GIFs, training curves.

* :func:`record_episodes` plays episodes with any agent that has ``predict`` and keeps
  every fixation, glimpse and frame.
* :func:`glimpse_grid` draws test images with their glimpse paths: numbered fixations,
  the nested retina squares of every glimpse, predicted and true label, a green
  (correct) or red (wrong) frame.
* :func:`episode_gif` animates one episode: per step, the image with the retina and the
  path so far, beside what the agent saw at each scale (Catch: the game and the fovea).
* :func:`plot_runs` draws training curves from ``progress.csv`` files, runs overlaid.

Needs the ``viz`` extra (pillow, matplotlib).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import ram_env
from ram_env import rendering
from ram_env.core import zoom_widths
from ram_env.sensor import locations_to_pixels

__all__ = ["EpisodeRecord", "record_episodes", "glimpse_grid", "episode_gif", "plot_runs", "TILE"]

TILE = 224  #: side of one image in the grid, pixels (before the caption)
CAPTION = 18
CORRECT, WRONG = (40, 200, 70), (230, 50, 50)


@dataclass
class EpisodeRecord:
    """One played episode."""

    frames: list[np.ndarray]  #: uint8 (H, W) image the agent looked at, one per glimpse
    locations: np.ndarray  #: float32 (T, 2) where each glimpse was taken, (row, col) in [-1, 1]
    glimpses: np.ndarray  #: float32 (T, k, g, g) what the agent saw
    reward: float
    label: int | None = None  #: true label (classification)
    predicted: int | None = None  #: the agent's answer (classification)
    index: int | None = None  #: test image index (classification)
    info: dict[str, Any] = field(default_factory=dict)
    #: float (T,) finest-patch width of each glimpse in pixels, when the agent chose the scale
    widths: np.ndarray | None = None


def record_episodes(
    agent: Any,
    n: int = 16,
    split: str = "test",
    seed: int = 0,
    env_id: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
    deterministic: bool = True,
) -> list[EpisodeRecord]:
    """Play ``n`` episodes in parallel and record them (classification: the split's images
    ``seed .. seed + n - 1``, as the env's seeding rule gives; Catch: games seeded ``seed + i``)."""
    env_id = env_id or agent.env_id
    kwargs = dict(agent.env_kwargs if env_kwargs is None else env_kwargs)
    probe = gym.make(env_id, **kwargs)
    classification = ram_env.task_kind(probe) == "classification"
    if not isinstance(probe.observation_space, gym.spaces.Dict):
        raise ValueError(f"{env_id} with {kwargs} has no glimpses to show (obs_mode='full'?)")
    if classification:
        kwargs["split"] = split
    envs = gym.make_vec(env_id, num_envs=n, **kwargs)
    zoom_range = ram_env.glimpse_task(envs).zoom_range
    obs, info = envs.reset(seed=seed)
    frames: list[list[np.ndarray]] = [[] for _ in range(n)]
    locations: list[list[np.ndarray]] = [[] for _ in range(n)]
    glimpses: list[list[np.ndarray]] = [[] for _ in range(n)]
    widths: list[list[float]] = [[] for _ in range(n)]
    done = np.zeros(n, dtype=bool)
    rewards = np.zeros(n)
    predicted = np.full(n, -1)
    labels = info.get("label")
    indices = info.get("index")
    state, start = None, np.ones(n, dtype=bool)

    def keep(active: np.ndarray) -> None:
        for i in np.flatnonzero(active):
            frames[i].append(ram_env.episode_image(envs, int(i)).copy())
            locations[i].append(obs["location"][i].copy())
            glimpses[i].append(obs["glimpse"][i].copy())
            if zoom_range is not None:
                widths[i].append(float(zoom_widths(obs["zoom"][i, 0], zoom_range)))

    keep(~done)
    while not done.all():
        action, state = agent.predict(obs, state, start, deterministic)
        start = np.zeros(n, dtype=bool)
        obs, reward, terminated, truncated, info = envs.step(action)
        ended = (terminated | truncated) & ~done
        rewards[ended] = reward[ended]
        if classification:  # the last step scores the label and takes no glimpse
            predicted[ended] = np.asarray(action["label"])[ended]
            keep(~done & ~ended)
        else:  # Catch glimpses the final screen too
            keep(~done)
        done |= ended
    records = []
    for i in range(n):
        records.append(
            EpisodeRecord(
                frames=frames[i],
                locations=np.array(locations[i], dtype=np.float32),
                glimpses=np.array(glimpses[i], dtype=np.float32),
                reward=float(rewards[i]),
                label=int(labels[i]) if labels is not None else None,
                predicted=int(predicted[i]) if classification else None,
                index=int(indices[i]) if indices is not None else None,
                widths=np.array(widths[i]) if zoom_range is not None else None,
            )
        )
    envs.close()
    return records


def _require_pillow():
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as err:  # pragma: no cover - in the viz extra
        raise ImportError("pictures need pillow: pip install 'ram-gym[viz]'") from err
    return Image, ImageDraw, ImageFont


def fixation_pixels(locations: np.ndarray, image_shape: tuple[int, int], scale: float) -> np.ndarray:
    """float ``(T, 2)`` ``(y, x)`` pixel centres of fixations in a picture zoomed by ``scale``."""
    return locations_to_pixels(np.asarray(locations, dtype=np.float64), *image_shape) * scale


def draw_episode(
    record: EpisodeRecord, sensor: Any, tile: int = TILE, all_scales: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """One tile: the (last) image with each glimpse's finest patch (``all_scales``: every
    patch of the retina), the path and numbered fixations.

    Returns:
        ``(tile_rgb uint8 (tile + CAPTION, tile, 3), fixation centres (T, 2) in tile pixels)``.
    """
    Image, ImageDraw, ImageFont = _require_pillow()
    image = record.frames[-1]
    h, w = image.shape[:2]
    scale = tile / max(h, w)
    base = Image.fromarray(image).resize((int(round(w * scale)), int(round(h * scale))), Image.NEAREST).convert("RGB")
    canvas = Image.new("RGB", (tile, tile + CAPTION), (0, 0, 0))
    canvas.paste(base, (0, 0))
    draw = ImageDraw.Draw(canvas)
    points = fixation_pixels(record.locations, (h, w), scale)
    boxes = sensor.patch_boxes(record.locations, h, w, widths=record.widths) * scale  # (T, k, 4)
    t_count = len(points)
    for t in range(t_count):  # retina squares, fading from early (dim) to late (bright)
        fade = 0.35 + 0.65 * (t + 1) / t_count
        for s, (top, left, bottom, right) in enumerate(boxes[t] if all_scales else boxes[t][:1]):
            color = tuple(int(c * fade) for c in rendering.SCALE_COLORS[s % len(rendering.SCALE_COLORS)])
            draw.rectangle([left, top, right - 1, bottom - 1], outline=color)
    for a, b in zip(points[:-1], points[1:], strict=True):
        draw.line([(a[1], a[0]), (b[1], b[0])], fill=tuple(int(c) for c in rendering.PATH_COLOR), width=1)
    font = ImageFont.load_default()
    for t, (y, x) in enumerate(points):
        draw.ellipse([x - 6, y - 6, x + 6, y + 6], fill=tuple(int(c) for c in rendering.FIXATION_COLOR))
        draw.text((x + 7, y - 7), str(t + 1), fill=(255, 255, 255), font=font)
    if record.label is not None:
        ok = record.predicted == record.label
        text = f"#{record.index} said {record.predicted}, true {record.label} {'OK' if ok else 'WRONG'}"
        border = CORRECT if ok else WRONG
    else:
        ok = record.reward > 0
        text = f"{'caught' if ok else 'missed'} ({len(points)} glimpses)"
        border = CORRECT if ok else WRONG
    draw.rectangle([0, 0, tile - 1, tile + CAPTION - 1], outline=border, width=2)
    draw.text((4, tile + 3), text, fill=border, font=font)
    return np.asarray(canvas), points


def glimpse_grid(
    records: list[EpisodeRecord],
    sensor: Any,
    columns: int | None = None,
    tile: int = TILE,
    all_scales: bool = False,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """All episodes as a grid of tiles; returns ``(rgb uint8, fixation centres per tile)``.

    Each tile draws the finest patch of every glimpse; ``all_scales`` draws the whole retina."""
    columns = columns or int(np.ceil(np.sqrt(len(records))))
    rows = int(np.ceil(len(records) / columns))
    gap = 4
    height, width = tile + CAPTION, tile
    grid = np.full((rows * (height + gap) + gap, columns * (width + gap) + gap, 3), 40, dtype=np.uint8)
    centres = []
    for i, record in enumerate(records):
        picture, points = draw_episode(record, sensor, tile, all_scales)
        r, c = divmod(i, columns)
        y0, x0 = gap + r * (height + gap), gap + c * (width + gap)
        grid[y0 : y0 + height, x0 : x0 + width] = picture
        centres.append(points + np.array([y0, x0]))
    return grid, centres


def episode_frames(record: EpisodeRecord, sensor: Any, size: int = 240) -> list[np.ndarray]:
    """GIF frames: per glimpse, the image with retina and path beside the glimpse's patches."""
    Image, _, _ = _require_pillow()
    frames = []
    k = record.glimpses.shape[1]
    for t in range(len(record.locations)):
        image = record.frames[t]
        h, w = image.shape[:2]
        boxes = sensor.patch_boxes(record.locations[t], h, w, None if record.widths is None else record.widths[t])
        scene = rendering.draw_glimpses(image, boxes, record.locations[: t + 1])
        scene = np.asarray(Image.fromarray(scene).resize((size, size), Image.NEAREST))
        if record.label is None:  # Catch: the fovea composite beside the game
            fovea = rendering.compose_fovea(record.glimpses[t], boxes, (h, w), max(1, size // max(h, w)), stretch=True)
            side = np.asarray(Image.fromarray(fovea).resize((size, size), Image.NEAREST))
        else:  # classification: each scale's patch, finest on top
            patch = size // k
            side = np.zeros((size, patch, 3), dtype=np.uint8)
            for s in range(k):
                g = (np.clip(record.glimpses[t, s], 0, 1) * 255).astype(np.uint8)
                if g.ndim == 3:  # colour: (c, g, g) -> (g, g, c), grey or RGB(A) for the picture
                    g = g[0] if g.shape[0] == 1 else np.moveaxis(g, 0, -1)[..., :3]
                up = np.asarray(Image.fromarray(g).resize((patch - 4, patch - 4), Image.NEAREST))
                side[s * patch + 2 : s * patch + patch - 2, 2 : patch - 2] = up[:, :, None] if up.ndim == 2 else up
                side[s * patch : s * patch + 2, :] = rendering.SCALE_COLORS[s % len(rendering.SCALE_COLORS)]
        frame = np.concatenate([scene, np.full((size, 6, 3), 30, np.uint8), side], axis=1)
        frames.append(_caption(frame, _frame_text(record, t)))
    return frames


def _frame_text(record: EpisodeRecord, t: int) -> tuple[str, tuple[int, int, int]]:
    """What frame ``t`` says: the step, and on the last frame the outcome (with its colour)."""
    steps = len(record.locations)
    last = t == steps - 1
    if record.label is not None:
        text = f"glimpse {t + 1}/{steps}"
        if last:
            ok = record.predicted == record.label
            return f"{text}  said {record.predicted}, true {record.label}: {'right' if ok else 'wrong'}", (
                CORRECT if ok else WRONG
            )
        return text, (220, 220, 220)
    text = f"step {t + 1}/{steps}"
    if last:
        ok = record.reward > 0
        return f"{text}  {'caught' if ok else 'missed'}", CORRECT if ok else WRONG
    return text, (220, 220, 220)


def _caption(frame: np.ndarray, text_color: tuple[str, tuple[int, int, int]]) -> np.ndarray:
    """``frame`` with a caption band of height :data:`CAPTION` below it."""
    Image, ImageDraw, ImageFont = _require_pillow()
    text, color = text_color
    band = Image.new("RGB", (frame.shape[1], CAPTION), (0, 0, 0))
    ImageDraw.Draw(band).text((4, 3), text, fill=color, font=ImageFont.load_default())
    return np.concatenate([frame, np.asarray(band)], axis=0)


def save_png(picture: np.ndarray, path: str | os.PathLike) -> Path:
    Image, _, _ = _require_pillow()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture).save(path)
    return path


def episode_gif(record: EpisodeRecord, sensor: Any, path: str | os.PathLike, ms_per_frame: int = 600) -> Path:
    """Write one episode as an animated GIF (loops forever)."""
    Image, _, _ = _require_pillow()
    frames = [Image.fromarray(f) for f in episode_frames(record, sensor)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0)
    return path


#: (title, columns to try in order) of each panel of :func:`plot_runs`
PANELS = [
    ("accuracy / reward", ["accuracy", "reward"]),
    ("cross-entropy", ["cross_entropy"]),
    ("policy-gradient terms", ["location_pg", "action_pg"]),
    ("baseline MSE", ["baseline_mse"]),
    ("location std", ["location_std"]),
    ("learning rate", ["learning_rate"]),
]


def read_progress(run_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Columns of ``run_dir/progress.csv`` as float arrays."""
    path = Path(run_dir) / "progress.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no progress.csv in {run_dir} (is it a `ram train` run directory?)")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path} has no rows yet")
    columns: dict[str, np.ndarray] = {}
    for key in rows[0]:
        try:
            columns[key] = np.array([float(r[key]) if r[key] not in ("", None) else np.nan for r in rows])
        except ValueError:
            continue
    return columns


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(y) < window:
        return y
    kernel = np.ones(window) / window
    return np.convolve(np.nan_to_num(y), kernel, mode="valid")


def plot_runs(run_dirs: list[str | os.PathLike], path: str | os.PathLike, smooth: int = 20) -> Path:
    """Training curves of several runs overlaid (one panel per quantity) -> PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    runs = {Path(d).name or str(d): read_progress(d) for d in run_dirs}
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    for ax, (title, keys) in zip(axes.ravel(), PANELS, strict=True):
        for name, data in runs.items():
            x = data.get("env_steps")
            for key in keys:
                if key in data and x is not None and np.isfinite(data[key]).any():
                    y = _smooth(data[key], smooth)
                    ax.plot(x[len(x) - len(y) :], y, label=f"{name}: {key}" if len(keys) > 1 else name)
                    if title != "policy-gradient terms":
                        break
        ax.set_title(title)
        ax.set_xlabel("env steps")
        ax.xaxis.set_major_formatter(matplotlib.ticker.EngFormatter(sep=""))  # 1.5M, not 1500000
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle(f"training curves ({smooth}-update moving average)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
