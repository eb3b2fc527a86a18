"""Drawing glimpses on images (numpy only) and showing frames in a pygame window.

Pictures are uint8 ``(H, W, 3)`` RGB arrays.  The image is upscaled by a whole factor
so that its longer side is about :data:`TARGET_SIZE` pixels; the retina's nested
squares and the path of fixations are drawn over it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ram_env.sensor import locations_to_pixels

__all__ = [
    "TARGET_SIZE",
    "SCALE_COLORS",
    "upscale_factor",
    "to_rgb",
    "draw_rect",
    "draw_line",
    "draw_disc",
    "draw_glimpses",
    "compose_fovea",
    "Window",
]

TARGET_SIZE = 300
#: outline colour of retina patch 0 (finest), 1, 2, ...
SCALE_COLORS = np.array([(40, 220, 60), (255, 200, 0), (255, 90, 60), (90, 160, 255), (220, 90, 255)], dtype=np.uint8)
PATH_COLOR = np.array((0, 200, 255), dtype=np.uint8)
FIXATION_COLOR = np.array((255, 40, 40), dtype=np.uint8)


def upscale_factor(height: int, width: int, target: int = TARGET_SIZE) -> int:
    """Whole zoom factor that brings the longer side near ``target`` pixels (at least 1)."""
    return max(1, int(round(target / max(height, width))))


def to_rgb(image: np.ndarray, scale: int) -> np.ndarray:
    """uint8 ``(H, W)`` grey (or ``(H, W, 3)``) -> uint8 ``(H*scale, W*scale, 3)``."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(np.repeat(np.repeat(img, scale, axis=0), scale, axis=1))


def draw_rect(
    frame: np.ndarray, top: float, left: float, bottom: float, right: float, color: np.ndarray, thickness: int = 1
) -> None:
    """Outline of the box ``[top, bottom) x [left, right)`` (frame pixels), clipped to the frame."""
    h, w = frame.shape[:2]
    t, lft, b, r = (int(round(v)) for v in (top, left, bottom, right))
    for edge_top, edge_bottom, edge_left, edge_right in (
        (t, t + thickness, lft, r),
        (b - thickness, b, lft, r),
        (t, b, lft, lft + thickness),
        (t, b, r - thickness, r),
    ):
        y0, y1 = max(edge_top, 0), min(edge_bottom, h)
        x0, x1 = max(edge_left, 0), min(edge_right, w)
        if y0 < y1 and x0 < x1:
            frame[y0:y1, x0:x1] = color


def draw_line(frame: np.ndarray, p0: np.ndarray, p1: np.ndarray, color: np.ndarray) -> None:
    """A 1-pixel line from ``p0`` to ``p1`` (``(row, col)`` frame pixels), clipped."""
    steps = int(np.ceil(np.max(np.abs(np.subtract(p1, p0))))) + 1
    pts = np.round(np.linspace(p0, p1, steps)).astype(np.int64)
    h, w = frame.shape[:2]
    ok = (pts[:, 0] >= 0) & (pts[:, 0] < h) & (pts[:, 1] >= 0) & (pts[:, 1] < w)
    frame[pts[ok, 0], pts[ok, 1]] = color


def draw_disc(frame: np.ndarray, centre: np.ndarray, radius: float, color: np.ndarray) -> None:
    """A filled disc at ``centre`` (``(row, col)`` frame pixels), clipped."""
    h, w = frame.shape[:2]
    cy, cx = centre
    y0, y1 = max(int(cy - radius), 0), min(int(cy + radius) + 1, h)
    x0, x1 = max(int(cx - radius), 0), min(int(cx + radius) + 1, w)
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    mask = (yy + 0.5 - cy) ** 2 + (xx + 0.5 - cx) ** 2 <= radius**2
    frame[y0:y1, x0:x1][mask] = color


def draw_glimpses(image: np.ndarray, boxes: np.ndarray, path: np.ndarray, scale: int | None = None) -> np.ndarray:
    """The image with the current retina and the path of fixations.

    Args:
        image: uint8 ``(H, W)`` (or ``(H, W, 3)``).
        boxes: ``(k, 4)`` pixel boxes ``(top, left, bottom, right)`` of the current
            glimpse's patches (from :meth:`GlimpseSensor.patch_boxes`).
        path: ``(T, 2)`` fixations so far in ``[-1, 1]`` ``(row, col)``, the last one current.
        scale: zoom factor (default :func:`upscale_factor`).

    Returns:
        uint8 ``(H * scale, W * scale, 3)``.
    """
    h, w = np.shape(image)[:2]
    scale = upscale_factor(h, w) if scale is None else scale
    frame = to_rgb(image, scale)
    points = locations_to_pixels(np.asarray(path, dtype=np.float64).reshape(-1, 2), h, w) * scale
    for a, b in zip(points[:-1], points[1:], strict=True):
        draw_line(frame, a, b, PATH_COLOR)
    for p in points[:-1]:
        draw_disc(frame, p, max(1.5, scale * 0.4), PATH_COLOR)
    thickness = max(1, scale // 4)
    for s, (top, left, bottom, right) in enumerate(np.asarray(boxes) * scale):
        draw_rect(frame, top, left, bottom, right, SCALE_COLORS[s % len(SCALE_COLORS)], thickness)
    if len(points):
        draw_disc(frame, points[-1], max(2.0, scale * 0.6), FIXATION_COLOR)
    return frame


class Window:
    """A pygame window that shows RGB frames (works headless with ``SDL_VIDEODRIVER=dummy``)."""

    def __init__(self, title: str, fps: float = 30) -> None:
        try:
            import pygame
        except ImportError as err:  # pragma: no cover - pygame is a dependency
            from gymnasium.error import DependencyNotInstalled

            raise DependencyNotInstalled("pygame is not installed; run `pip install pygame`") from err
        self._pg: Any = pygame
        self.title = title
        self.fps = fps
        self.surface = None
        self.clock = pygame.time.Clock()

    def show(self, frame: np.ndarray, text: str | None = None) -> None:
        """Show ``frame`` (uint8 ``(H, W, 3)``), with a status line ``text`` below it."""
        pg = self._pg
        h, w = frame.shape[:2]
        band = 24 if text is not None else 0
        if self.surface is None or self.surface.get_size() != (w, h + band):
            pg.display.init()
            pg.display.set_caption(self.title)
            self.surface = pg.display.set_mode((w, h + band))
        canvas = np.zeros((h + band, w, 3), dtype=np.uint8)
        canvas[:h] = frame
        pg.surfarray.blit_array(self.surface, np.ascontiguousarray(canvas.swapaxes(0, 1)))
        if text is not None and self.surface is not None:
            if not pg.font.get_init():
                pg.font.init()
            self.surface.blit(pg.font.Font(None, 20).render(text, True, (235, 235, 235)), (6, h + 5))
        pg.event.pump()
        pg.display.flip()
        self.clock.tick(self.fps)

    def close(self) -> None:
        if self.surface is not None:
            self._pg.display.quit()
            self.surface = None


def compose_fovea(
    glimpse: np.ndarray, boxes: np.ndarray, image_shape: tuple[int, int], scale: int, stretch: bool = False
) -> np.ndarray:
    """What the agent sees, drawn where it sees it: each patch upscaled over its footprint.

    The coarsest patch is painted first and each finer one over it, so the picture is
    sharp at the fixation and blurred around it; pixels no patch covers stay dark blue.

    Args:
        glimpse: ``(k, g, g)`` values in ``[0, 1]``, finest patch first.
        boxes: ``(k, 4)`` pixel boxes ``(top, left, bottom, right)`` of the patches.
        image_shape: ``(H, W)`` of the image the glimpse was taken from.
        scale: frame pixels per image pixel.
        stretch: divide each patch by its maximum, so that faint ink averaged over
            coarse cells stays visible to a person (the agent gets the raw values).

    Returns:
        uint8 ``(H * scale, W * scale, 3)``.
    """
    h, w = image_shape
    frame = np.empty((h * scale, w * scale, 3), dtype=np.uint8)
    frame[:] = (10, 10, 40)
    g = glimpse.shape[-1]
    for s in range(len(glimpse) - 1, -1, -1):
        top, left, bottom, right = (np.asarray(boxes[s]) * scale).round().astype(int)
        cell = (bottom - top) / g
        ys = np.arange(max(top, 0), min(bottom, h * scale))
        xs = np.arange(max(left, 0), min(right, w * scale))
        if not len(ys) or not len(xs):
            continue
        iy = np.minimum(((ys - top) / cell).astype(int), g - 1)
        ix = np.minimum(((xs - left) / cell).astype(int), g - 1)
        patch = np.clip(glimpse[s], 0, 1)
        if stretch and patch.max() > 0:
            patch = patch / patch.max()
        values = (patch * 255).astype(np.uint8)[iy[:, None], ix[None, :]]
        frame[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1] = values[:, :, None]
    return frame
