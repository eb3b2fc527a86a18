"""The glimpse sensor rho(x, l) of Mnih et al. (2014), batched.

A glimpse at location ``l`` is ``k`` square patches centred on ``l``: the first is
``g x g`` pixels, each next one ``scale_factor`` times wider.  Every patch is reduced
to ``g x g`` by *area averaging* (each output cell is the mean of the image over the
square it covers; the paper's retina and the default) or, with ``reduction="max"``, by
*max pooling* (each cell is the largest pixel it covers, so a 1-pixel dot keeps its full
strength at every scale where averaging dims it by the cell's area), and the ``k``
results are stacked into a ``(k, g, g)`` array.  Pixels outside the image read as 0.

Coordinates
-----------
A location is ``(row, col)`` in ``[-1, 1]^2``: ``(0, 0)`` is the image centre,
``(-1, -1)`` the top-left corner and ``(1, 1)`` the bottom-right corner.  Row comes
first everywhere in this package.  For an ``H x W`` image the continuous centre is
``c = ((row + 1) / 2 * H, (col + 1) / 2 * W)`` in pixel units (0 is the top/left edge
of the first pixel), and patch ``s`` (side ``p_s = g * scale_factor**s``) starts at
the pixel edge ``round(c - p_s / 2)`` (halves round up).  Locations outside
``[-1, 1]`` are clipped to it first; non-finite locations raise ``ValueError``.

Implementation
--------------
The sensor works on summed-area tables (integral images): the sum of the image over
any axis-aligned box is four look-ups.  A table is computed once per image
(:meth:`GlimpseSensor.integral`) and any number of glimpses are then read from it
(:meth:`GlimpseSensor.read`) with one vectorised gather - no per-sample Python loop.
Clamping table coordinates to the image border gives the zero padding for free, so
locations far outside the image cost the same as any other.  When the cells are
whole pixels (integer ``scale_factor``) the reads are exact; otherwise the table is
bilinearly interpolated, which is still exact area averaging because the integral of
a piecewise-constant image is bilinear inside each pixel.

Max pooling works the same way on sliding-window maxima (:class:`MaxTables`): for each
scale, the max of the zero-padded image over the ``f x f`` square from every pixel,
``f = scale_factor**s`` (built by ``log2`` doublings of shifted maxima, each scale from
the one before), so a read is again one gather per scale.  It needs whole-pixel cells
(an integer ``scale_factor``) and reads fixed widths only (no zoom).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

__all__ = [
    "REDUCTIONS",
    "GlimpseSensor",
    "IntegralImages",
    "MaxTables",
    "Tables",
    "check_reduction",
    "locations_to_pixels",
]

#: how a patch is reduced to ``g x g``: area averaging (the paper's) or max pooling
REDUCTIONS = ("mean", "max")


def check_reduction(value: Any, name: str = "reduction") -> str:
    """``value`` if it is one of :data:`REDUCTIONS`, else a ``ValueError`` naming ``name``."""
    if isinstance(value, str) and value in REDUCTIONS:
        return str(value)
    close = difflib.get_close_matches(value, REDUCTIONS, n=1) if isinstance(value, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"{name} must be 'mean' (area averaging) or 'max' (max pooling), got {value!r:.60}{hint}")


def locations_to_pixels(locations: np.ndarray, height: int, width: int) -> np.ndarray:
    """Map ``(row, col)`` locations in ``[-1, 1]`` to continuous pixel coordinates.

    Args:
        locations: float array ``(..., 2)``; values outside ``[-1, 1]`` are clipped.
        height, width: image size in pixels.

    Returns:
        float64 array ``(..., 2)``: ``(y, x)`` with 0 at the top/left image edge and
        ``height``/``width`` at the bottom/right edge.
    """
    loc = np.clip(np.asarray(locations, dtype=np.float64), -1.0, 1.0)
    return (loc + 1.0) * 0.5 * np.array([height, width], dtype=np.float64)


@dataclass(frozen=True)
class IntegralImages:
    """Zero-padded summed-area tables of a batch of images, for :meth:`GlimpseSensor.read`.

    Attributes:
        table: ``(N, H + 2P + 1, W + 2P + 1)``; ``table[n, P + i, P + j]`` is the sum of
            ``image[n, :i, :j]`` for any ``i`` in ``[-P, H + P]`` (the image is padded
            with ``P`` zero pixels on every side).  int32/int64 for integer images,
            float64 otherwise.
        pad: ``P``, enough for the sensor's largest patch anywhere in ``[-1, 1]^2``.
        image_shape: ``(H, W)``.
        value_scale: factor turning sums into image values (``1/255`` for uint8).
    """

    table: np.ndarray
    pad: int
    image_shape: tuple[int, int]
    value_scale: float

    @property
    def num_images(self) -> int:
        return self.table.shape[0]


@dataclass(frozen=True)
class MaxTables:
    """Zero-padded sliding-window maxima of a batch of images, for a ``reduction="max"`` read.

    Attributes:
        table: ``(N, k, H + 2P, W + 2P)`` in the images' dtype; ``table[n, s, P + i, P + j]``
            is the max of image ``n`` (padded with ``P`` zero pixels on every side) over the
            ``f x f`` pixels from ``(i, j)``, ``f = cells[s]``, for ``i`` in ``[-P, H + P - f]``.
        cells: ``f`` of each scale, the sensor's ``scale_factor**s``.
        pad, image_shape, value_scale: as :class:`IntegralImages`.
    """

    table: np.ndarray
    cells: tuple[int, ...]
    pad: int
    image_shape: tuple[int, int]
    value_scale: float

    @property
    def num_images(self) -> int:
        return self.table.shape[0]


#: what :meth:`GlimpseSensor.read` reads: summed-area tables (mean) or sliding maxima (max)
Tables: TypeAlias = IntegralImages | MaxTables


class GlimpseSensor:
    """Batched multi-resolution retina: ``k`` patches of growing size, each ``g x g``.

    Args:
        glimpse_size: ``g``, the side of the smallest patch and of every output patch.
        n_scales: ``k``, the number of patches.
        scale_factor: how many times wider each patch is than the previous (> 1 when
            ``n_scales > 1``; need not be an integer, but must be for ``"max"``).
        max_width: the widest finest patch a zoomed read may ask for (``"mean"`` only).
        reduction: ``"mean"`` (area averaging, the paper's) or ``"max"`` (max pooling).

    Example:
        >>> sensor = GlimpseSensor(glimpse_size=12, n_scales=3)
        >>> images = np.zeros((4, 60, 60), dtype=np.uint8)
        >>> sensor(images, np.zeros((4, 2))).shape
        (4, 3, 12, 12)
    """

    #: batches at least this large are split over two threads (numpy releases the GIL)
    parallel_threshold = 512
    #: widest patch (pixels) a sensor may read: the zero padding grows with it
    max_patch = 8192
    #: largest absolute pixel value of float images (their running sums must stay exact enough)
    max_float_value = 1e12

    def __init__(
        self,
        glimpse_size: int = 8,
        n_scales: int = 1,
        scale_factor: float = 2.0,
        max_width: float | None = None,
        reduction: str = "mean",
    ) -> None:
        if isinstance(glimpse_size, bool) or not isinstance(glimpse_size, (int, np.integer)) or glimpse_size < 1:
            raise ValueError(f"glimpse_size must be a positive integer, got {glimpse_size!r}")
        if isinstance(n_scales, bool) or not isinstance(n_scales, (int, np.integer)) or n_scales < 1:
            raise ValueError(f"n_scales must be a positive integer, got {n_scales!r}")
        if (
            isinstance(scale_factor, bool)
            or not isinstance(scale_factor, (int, float, np.integer, np.floating))
            or not np.isfinite(scale_factor)
            or scale_factor <= 0
            or (n_scales > 1 and scale_factor <= 1)
        ):
            raise ValueError(f"scale_factor must be a finite real number > 1, got {scale_factor!r}")
        log_largest = math.log(float(glimpse_size)) + (int(n_scales) - 1) * math.log(float(scale_factor))
        largest = math.exp(min(log_largest, 700.0))
        if largest > self.max_patch:
            raise ValueError(
                f"the largest patch would be {largest:,.0f} pixels wide (glimpse_size={glimpse_size}, "
                f"n_scales={n_scales}, scale_factor={scale_factor}); at most {self.max_patch:,}"
            )
        self.glimpse_size = int(glimpse_size)
        self.n_scales = int(n_scales)
        self.scale_factor = float(scale_factor)
        #: width of one output cell of each patch, in pixels: ``scale_factor**s``, shape (k,)
        self.cell_sizes = self.scale_factor ** np.arange(self.n_scales, dtype=np.float64)
        #: side of each patch in pixels, shape (k,)
        self.patch_sizes = self.glimpse_size * self.cell_sizes
        #: zero padding that covers the largest patch centred anywhere on the image
        #: the widest finest patch a zoomed read may ask for (``read(..., widths=)``)
        self.max_width = float(max(self.glimpse_size, max_width or 0))
        self.pad = int(np.ceil(self.max_width * self.cell_sizes[-1] / 2)) + 2
        self._whole_pixel_cells = bool(np.all(self.cell_sizes == np.round(self.cell_sizes)))
        # offsets of the g+1 cell edges from the patch start, (k, g+1)
        self._edges = np.arange(self.glimpse_size + 1)[None, :] * self.cell_sizes[:, None]
        #: ``"mean"`` (area averaging) or ``"max"`` (max pooling)
        self.reduction = check_reduction(reduction)
        if self.reduction == "max":
            self._check_max()

    def _check_max(self) -> None:
        """Max pooling reads whole-pixel cells at fixed widths."""
        if not self._whole_pixel_cells:
            raise ValueError(
                f"reduction='max' needs whole-pixel cells (an integer scale_factor), got scale_factor="
                f"{self.scale_factor:g}; use an integer factor or reduction='mean'"
            )
        if self.max_width > self.glimpse_size:
            raise ValueError(f"zoom needs reduction='mean' (max_width={self.max_width:g} asks for zoomed reads)")

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of one glimpse: ``(n_scales, glimpse_size, glimpse_size)``."""
        return self.n_scales, self.glimpse_size, self.glimpse_size

    def __repr__(self) -> str:
        reduction = "" if self.reduction == "mean" else f", reduction={self.reduction!r}"
        return (
            f"GlimpseSensor(glimpse_size={self.glimpse_size}, n_scales={self.n_scales}, "
            f"scale_factor={self.scale_factor:g}{reduction})"
        )

    # ------------------------------------------------------------------ geometry
    def patch_sizes_for(self, widths: np.ndarray | None, n: int) -> np.ndarray:
        """Side of each patch in pixels, float64 ``(N, k)``: ``patch_sizes`` for every glimpse,
        or (a zoomed read) the finest patch ``widths[n]`` wide and each next one
        ``scale_factor`` times wider."""
        if widths is None:
            return np.broadcast_to(self.patch_sizes, (n, self.n_scales))
        width = np.asarray(widths, dtype=np.float64).reshape(-1)
        if width.shape != (n,) or not np.all(np.isfinite(width)) or np.any(width <= 0):
            raise ValueError(f"widths must be {n} finite widths > 0, got {widths!r:.80}")
        if np.any(width > self.max_width + 1e-9):
            raise ValueError(f"widths must be <= this sensor's max_width {self.max_width:g}, got {width.max():g}")
        return width[:, None] * self.cell_sizes[None, :]

    def patch_starts(
        self, locations: np.ndarray, height: int, width: int, widths: np.ndarray | None = None
    ) -> np.ndarray:
        """Top-left pixel edge of every patch: float64 ``(N, k, 2)`` as ``(row, col)``.

        Whole numbers; may be negative or beyond the image for patches that overhang it.
        ``widths`` ``(N,)``: finest-patch widths of a zoomed read (see :meth:`read`).
        """
        loc = self._check_locations(locations)
        return self._starts(loc, height, width, self.patch_sizes_for(widths, len(loc)))

    @staticmethod
    def _starts(loc: np.ndarray, height: int, width: int, sizes: np.ndarray) -> np.ndarray:
        """Whole-pixel patch starts ``(N, k, 2)`` of patches ``sizes`` ``(N, k)`` at checked ``loc``."""
        centre = locations_to_pixels(loc, height, width)  # (N, 2)
        return np.floor(centre[:, None, :] - sizes[:, :, None] / 2 + 0.5)

    def patch_boxes(
        self, locations: np.ndarray, height: int, width: int, widths: np.ndarray | None = None
    ) -> np.ndarray:
        """Pixel boxes of the ``k`` patches at each location.

        Args:
            locations: ``(N, 2)`` or ``(2,)`` ``(row, col)`` locations in ``[-1, 1]``.
            height, width: image size.
            widths: ``(N,)`` (or a number for one location) finest-patch widths of a
                zoomed read; default ``glimpse_size``.

        Returns:
            float64 ``(N, k, 4)`` (or ``(k, 4)``): ``(top, left, bottom, right)`` pixel
            edges of each patch (may lie outside the image).
        """
        start = self.patch_starts(locations, height, width, widths)
        sizes = self.patch_sizes_for(widths, len(start))
        boxes = np.concatenate([start, start + sizes[:, :, None]], axis=-1)
        return boxes[0] if np.ndim(locations) == 1 else boxes

    # ------------------------------------------------------------------ reading
    def tables(self, images: np.ndarray) -> Tables:
        """What :meth:`read` reads, built once per image: summed-area tables (:meth:`integral`)
        for ``reduction="mean"``, sliding maxima (:meth:`max_tables`) for ``"max"``."""
        return self.max_tables(images) if self.reduction == "max" else self.integral(images)

    def max_tables(self, images: np.ndarray) -> MaxTables:
        """Zero-padded sliding-window maxima of ``images``, one table per scale.

        Args:
            images: ``(N, H, W)`` or ``(H, W)``; uint8 (values read as ``v / 255``), bool or
                any other integer type (read as is), or real float (finite).

        Returns:
            :class:`MaxTables` holding a ``(N, k, H + 2P, W + 2P)`` table of the images' dtype.
        """
        if not self._whole_pixel_cells:
            raise ValueError(f"max tables need an integer scale_factor, got {self.scale_factor:g}")
        img = _as_batch(images)
        scale = _value_scale(img)
        n, h, w = img.shape
        p = self.pad
        table = np.zeros((n, self.n_scales, h + 2 * p, w + 2 * p), dtype=img.dtype)
        table[:, 0, p : p + h, p : p + w] = img
        cells = tuple(int(f) for f in self.cell_sizes)
        for s in range(1, self.n_scales):  # cells of scale s are `factor` cells of scale s - 1 across
            factor = cells[s] // cells[s - 1]
            table[:, s] = _widen(_widen(table[:, s - 1], cells[s - 1], factor, axis=1), cells[s - 1], factor, axis=2)
        return MaxTables(table=table, cells=cells, pad=p, image_shape=(h, w), value_scale=scale)

    def integral(self, images: np.ndarray) -> IntegralImages:
        """Zero-padded summed-area tables of ``images``.

        Args:
            images: ``(N, H, W)`` or ``(H, W)``; uint8 (values read as ``v / 255``),
                bool or any other integer type (read as is; 32/64-bit values within
                ``+-2**31``), or real float (finite, ``|v| <= 1e12``).  Other dtypes raise.

        Returns:
            :class:`IntegralImages` holding a ``(N, H + 2P + 1, W + 2P + 1)`` table.
        """
        img = _as_batch(images)
        scale = _value_scale(img)
        n, h, w = img.shape
        if img.dtype == np.bool_ or np.issubdtype(img.dtype, np.integer):
            if img.dtype.itemsize <= 2 or img.dtype == np.bool_:
                top = (
                    1 if img.dtype == np.bool_ else max(abs(int(np.iinfo(img.dtype).min)), int(np.iinfo(img.dtype).max))
                )
            else:  # 32/64-bit integers: the values themselves must fit the sums
                top = max(abs(int(img.min())), abs(int(img.max()))) if img.size else 0
                if top > 2**31:
                    raise ValueError(
                        f"{img.dtype} images with values up to {top:,} would overflow the sensor's running sums "
                        "(at most 2**31); convert them to float or rescale"
                    )
            acc = np.int32 if top * h * w < 2**31 else np.int64
        else:  # real float, finite
            if img.size and np.abs(img).max() > self.max_float_value:
                raise ValueError(
                    f"float images must have |values| <= {self.max_float_value:g} (their sums must stay finite), "
                    f"got {np.abs(img).max():g}"
                )
            acc = np.float64  # type: ignore[assignment]
        p = self.pad
        table = np.empty((n, h + 2 * p + 1, w + 2 * p + 1), dtype=acc)
        inner = img.astype(acc)
        np.cumsum(inner, axis=1, out=inner)
        np.cumsum(inner, axis=2, out=inner)
        table[:, : p + 1] = 0
        table[:, p + 1 :, : p + 1] = 0
        table[:, p + 1 : p + 1 + h, p + 1 : p + 1 + w] = inner
        # beyond the bottom/right edges the image is zero, so the sums stop growing
        table[:, p + 1 + h :, p + 1 : p + 1 + w] = inner[:, -1:, :]
        table[:, p + 1 :, p + 1 + w :] = table[:, p + 1 :, p + w : p + 1 + w]
        return IntegralImages(table=table, pad=p, image_shape=(h, w), value_scale=scale)

    def read(
        self,
        integral: Tables,
        locations: np.ndarray,
        index: np.ndarray | None = None,
        widths: np.ndarray | None = None,
    ) -> np.ndarray:
        """Glimpses read from precomputed tables.

        Args:
            integral: tables from :meth:`tables` of this sensor (``M`` images):
                :class:`IntegralImages` for ``reduction="mean"``, :class:`MaxTables` for ``"max"``.
            locations: ``(N, 2)`` ``(row, col)`` in ``[-1, 1]`` (clipped; must be finite).
            index: int ``(N,)``, which image each glimpse is taken from; default
                ``arange(N)`` (then ``N == M``).
            widths: float ``(N,)``, the finest patch's width in pixels for each glimpse
                (the paper's second extension, a chosen scale; at most ``max_width``;
                ``reduction="mean"`` only); default ``glimpse_size``.  Each patch is still
                reduced to ``g x g``; a zoomed read interpolates the tables, so its values can differ from exact
                area averages by float rounding (about 1e-12 of the value range).

        Returns:
            float32 ``(N, k, g, g)`` glimpses, values in the image's range.
        """
        self._check_tables(integral)
        loc = self._check_locations(locations)
        n = loc.shape[0]
        m = integral.num_images
        if index is None:
            if n != m:
                raise ValueError(f"{n} locations for {m} images; pass index= to choose images")
            index = np.arange(n)
        else:
            index = np.asarray(index)
            if index.shape != (n,) or not np.issubdtype(index.dtype, np.integer):
                raise ValueError(f"index must be an int array of shape ({n},), got {index.shape} {index.dtype}")
            if n and (index.min() < 0 or index.max() >= m):
                raise ValueError(f"index out of range [0, {m})")
        h, w = integral.image_shape
        if widths is not None:
            if isinstance(integral, MaxTables):
                raise ValueError("zoom needs reduction='mean': a max-pooling sensor reads fixed widths only")
            return self._read_widths(integral, loc, index, widths)
        starts = self.patch_starts(loc, h, w) + integral.pad  # table coordinates, (N, k, 2)
        out = np.empty((n,) + self.shape, dtype=np.float32)
        if n >= self.parallel_threshold:
            half = n // 2
            parts = [slice(0, half), slice(half, n)]
            list(_pool().map(lambda sl: self._read_into(integral, starts[sl], index[sl], out[sl]), parts))
        else:
            self._read_into(integral, starts, index, out)
        return out

    def crop(self, images: np.ndarray, locations: np.ndarray) -> np.ndarray:
        """Glimpses read directly from the patches' own pixels (no summed-area table).

        Costs ``O(sum_s p_s^2)`` per glimpse whatever the image size, where
        :meth:`__call__` first builds an ``O(H W)`` table: the better choice for few
        glimpses on large images.  Same result as :meth:`__call__` (to float rounding), with
        the sensor's reduction.  Needs whole-pixel cells (an integer ``scale_factor``).

        Args:
            images: ``(N, H, W)``, uint8 (read as ``v / 255``) or float.
            locations: ``(N, 2)`` ``(row, col)`` in ``[-1, 1]`` (clipped; finite).

        Returns:
            float32 ``(N, k, g, g)``.
        """
        if not self._whole_pixel_cells:
            raise ValueError(f"crop() needs an integer scale_factor, got {self.scale_factor:g}; use the sensor call")
        pool = np.max if self.reduction == "max" else np.mean
        img = np.asarray(images)
        if img.ndim != 3:
            raise ValueError(f"images must have shape (N, H, W), got {img.shape}")
        n, h, w = img.shape
        loc = self._check_locations(locations)
        if loc.shape[0] != n:
            raise ValueError(f"{loc.shape[0]} locations for {n} images")
        scale = 1.0 / 255.0 if img.dtype == np.uint8 else 1.0
        starts = self.patch_starts(loc, h, w).astype(np.intp)  # (N, k, 2)
        g = self.glimpse_size
        out = np.empty((n,) + self.shape, dtype=np.float32)
        batch = np.arange(n)[:, None, None]
        for s in range(self.n_scales):
            f = int(self.cell_sizes[s])
            span = np.arange(g * f)
            rows = starts[:, s, 0, None] + span  # (N, p)
            cols = starts[:, s, 1, None] + span
            inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
            pixels = img[batch, np.clip(rows, 0, h - 1)[:, :, None], np.clip(cols, 0, w - 1)[:, None, :]]
            pixels = np.where(inside, pixels, 0).astype(np.float32)
            out[:, s] = pool(pixels.reshape(n, g, f, g, f), axis=(2, 4)) * np.float32(scale)
        return out

    def __call__(self, images: np.ndarray, locations: np.ndarray) -> np.ndarray:
        """Glimpses of ``images`` at ``locations``.

        Args:
            images: ``(N, H, W)`` (or ``(H, W)`` with one location ``(2,)``).
            locations: ``(N, 2)`` ``(row, col)`` in ``[-1, 1]``.

        Returns:
            float32 ``(N, k, g, g)`` (or ``(k, g, g)`` for a single image).
        """
        single = np.ndim(images) == 2
        if single:
            if np.shape(locations) != (2,):
                raise ValueError(f"one image takes one location of shape (2,), got {np.shape(locations)}")
            locations = np.asarray(locations)[None]
        out = self.read(self.tables(images), locations)
        return out[0] if single else out

    def _read_widths(
        self, integral: IntegralImages, loc: np.ndarray, index: np.ndarray, widths: np.ndarray
    ) -> np.ndarray:
        """Glimpses whose finest patch is ``widths[n]`` pixels wide (area averages, bilinear
        corners): float32 ``(N, k, g, g)``."""
        h, w = integral.image_shape
        sizes = self.patch_sizes_for(widths, len(loc))  # (N, k), checks the widths
        starts = self._starts(loc, h, w, sizes) + integral.pad  # (N, k, 2) table coordinates
        g = self.glimpse_size
        out = np.empty((len(loc), self.n_scales, g, g), dtype=np.float32)
        steps = np.arange(g + 1)
        for s in range(self.n_scales):
            cell = sizes[:, s] / g  # (N,)
            start = starts[:, s]  # whole pixels, as the fixed-width read
            rows = start[:, 0, None] + steps * cell[:, None]
            cols = start[:, 1, None] + steps * cell[:, None]
            corner = self._bilinear(integral.table, index, rows, cols)
            diff = corner[:, 1:, :] - corner[:, :-1, :]
            box = diff[:, :, 1:] - diff[:, :, :-1]
            out[:, s] = box * (integral.value_scale / cell**2)[:, None, None]
        return out

    # ------------------------------------------------------------------ helpers
    def _check_tables(self, tables: Tables) -> None:
        """``ValueError`` for tables this sensor cannot read (another reduction, pad or retina)."""
        expected = MaxTables if self.reduction == "max" else IntegralImages
        if not isinstance(tables, expected):
            raise ValueError(
                f"a reduction={self.reduction!r} sensor reads {expected.__name__}, got {type(tables).__name__}; "
                "build them with sensor.tables(images)"
            )
        if tables.pad < self.pad:
            raise ValueError(f"tables padded by {tables.pad} < {self.pad}; build them with this sensor")
        if isinstance(tables, MaxTables) and tables.cells != tuple(int(f) for f in self.cell_sizes):
            raise ValueError(f"max tables of cells {tables.cells}, not {self.cell_sizes}; build them with this sensor")

    def _read_into(self, tables: Tables, starts: np.ndarray, index: np.ndarray, out: np.ndarray) -> None:
        """Every cell's mean or max -> ``out`` (N, k, g, g); ``starts`` in table coordinates."""
        if isinstance(tables, MaxTables):
            self._max_into(tables, starts, index, out)
        else:
            self._means_into(tables, starts, index, out)

    def _max_into(self, tables: MaxTables, starts: np.ndarray, index: np.ndarray, out: np.ndarray) -> None:
        """Cell maxima: one gather per scale from the sliding maxima of its cell size."""
        first = starts.astype(np.intp)
        scale = np.float32(tables.value_scale)
        for s, f in enumerate(tables.cells):
            cells = _grid(tables.table[:, s], self.glimpse_size, f)
            top = cells[index, first[:, s, 0], first[:, s, 1]]  # (N, g, g)
            np.multiply(top, scale, out=out[:, s], casting="unsafe", dtype=np.float32)

    def _means_into(self, integral: IntegralImages, starts: np.ndarray, index: np.ndarray, out: np.ndarray) -> None:
        """Box sums of every cell, divided by its area."""
        table = integral.table
        g = self.glimpse_size
        n = len(index)
        if self._whole_pixel_cells:
            first = starts.astype(np.intp)
            rows_diff = np.empty((n, g, g + 1), dtype=table.dtype)  # work buffers shared by the scales
            box = np.empty((n, g, g), dtype=table.dtype)
        for s in range(self.n_scales):
            cell = self.cell_sizes[s]
            if self._whole_pixel_cells:
                # the (g+1) x (g+1) grid of cell corners of each patch: one fancy index per scale
                corner = _grid(table, g + 1, int(cell))[index, first[:, s, 0], first[:, s, 1]]
                np.subtract(corner[:, 1:, :], corner[:, :-1, :], out=rows_diff)  # (N, g, g+1)
                np.subtract(rows_diff[:, :, 1:], rows_diff[:, :, :-1], out=box)  # (N, g, g) sums over cells
            else:
                corner = self._bilinear(
                    table, index, starts[:, s, 0, None] + self._edges[s], starts[:, s, 1, None] + self._edges[s]
                )
                diff = corner[:, 1:, :] - corner[:, :-1, :]
                box = diff[:, :, 1:] - diff[:, :, :-1]
            np.multiply(
                box, np.float32(integral.value_scale / cell**2), out=out[:, s], casting="unsafe", dtype=np.float32
            )

    @staticmethod
    def _check_locations(locations: np.ndarray) -> np.ndarray:
        loc = np.asarray(locations, dtype=np.float64)
        if loc.ndim == 1:
            loc = loc[None]
        if loc.ndim != 2 or loc.shape[1] != 2:
            raise ValueError(f"locations must have shape (N, 2) or (2,), got {np.shape(locations)}")
        if not np.all(np.isfinite(loc)):
            raise ValueError(f"locations must be finite, got NaN or inf in {loc[~np.isfinite(loc).all(1)][:3]}")
        return loc

    @staticmethod
    def _bilinear(table: np.ndarray, index: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Table interpolated at the fractional grid ``rows x cols``: ``(N, g+1, g+1)``."""
        r0 = np.floor(rows)
        c0 = np.floor(cols)
        fr = (rows - r0)[:, :, None]
        fc = (cols - c0)[:, None, :]
        r0 = r0.astype(np.intp)
        c0 = c0.astype(np.intp)
        i = index[:, None, None]

        def at(r: np.ndarray, c: np.ndarray) -> np.ndarray:
            return table[i, r[:, :, None], c[:, None, :]].astype(np.float64)

        top = at(r0, c0) * (1 - fc) + at(r0, c0 + 1) * fc
        bottom = at(r0 + 1, c0) * (1 - fc) + at(r0 + 1, c0 + 1) * fc
        return top * (1 - fr) + bottom * fr


def _as_batch(images: np.ndarray) -> np.ndarray:
    """``images`` as an ``(N, H, W)`` array (one ``(H, W)`` image gets ``N = 1``)."""
    img = np.asarray(images)
    if img.ndim == 2:
        img = img[None]
    if img.ndim != 3 or img.shape[1] < 1 or img.shape[2] < 1:
        raise ValueError(f"images must have shape (N, H, W) or (H, W), got {np.shape(images)}")
    return img


def _value_scale(img: np.ndarray) -> float:
    """The factor turning ``img``'s values into glimpse values (``1/255`` for uint8, else 1);
    ``ValueError`` for a dtype that is not bool, integer or real float, or NaN/inf."""
    if img.dtype == np.bool_ or np.issubdtype(img.dtype, np.integer):
        return 1.0 / 255.0 if img.dtype == np.uint8 else 1.0
    if not np.issubdtype(img.dtype, np.floating):
        raise ValueError(f"images must be a bool, integer or real float array, got dtype {img.dtype}")
    if not np.all(np.isfinite(img)):
        raise ValueError("images contain NaN or inf")
    return 1.0


def _grid(table: np.ndarray, points: int, step: int) -> np.ndarray:
    """A read-only strided view of ``table`` ``(M, Y, X)`` whose ``[m, y, x]`` element is the
    ``points x points`` grid ``table[m, y + step * i, x + step * j]``."""
    sn, sy, sx = table.strides
    span = (points - 1) * step
    return np.lib.stride_tricks.as_strided(
        table,
        shape=(table.shape[0], table.shape[1] - span, table.shape[2] - span, points, points),
        strides=(sn, sy, sx, step * sy, step * sx),
        writeable=False,
    )


def _widen(windows: np.ndarray, unit: int, count: int, axis: int) -> np.ndarray:
    """Sliding maxima over ``count * unit`` pixels along ``axis`` from those over ``unit``:
    ``out[y] = max(windows[y + j * unit] for j < count)``, by doubling (``ceil(log2 count)``
    shifted maxima).  Near the end, where ``y + j * unit`` runs past the array, only the
    windows inside count: the sensor reads none of those (they lie in its zero padding)."""
    out = windows.copy()
    covered = 1  # out[y] is the max of `covered` windows, `unit` apart
    while covered < count:
        step = min(covered, count - covered)
        shift = step * unit
        length = out.shape[axis]
        if shift < length:
            head = out[_along(axis, out.ndim, slice(0, length - shift))]
            np.maximum(head, out[_along(axis, out.ndim, slice(shift, None))], out=head)  # numpy buffers the overlap
        covered += step
    return out


def _along(axis: int, ndim: int, part: slice) -> tuple[slice, ...]:
    """The index taking ``part`` of ``axis`` and all of every other axis."""
    return tuple(part if a == axis else slice(None) for a in range(ndim))


_POOL = None


def _pool():
    """A shared two-thread pool for large reads (created on first use)."""
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="glimpse")
    return _POOL
