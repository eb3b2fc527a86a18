"""Training logs: a CSV file (always) and TensorBoard event files (when tensorboard is installed)."""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

__all__ = ["RunLogger"]


class RunLogger:
    """Appends one row of metrics per call to ``run_dir/progress.csv`` and to TensorBoard.

    The CSV's columns are fixed by its first row (a resumed run reuses the existing
    header); later keys that are not columns are still sent to TensorBoard.

    Args:
        run_dir: directory of the run (created).
        tensorboard: also write TensorBoard events to ``run_dir/tensorboard``.
        step_key: the metric used as TensorBoard's step.
        filename: the CSV file's name in ``run_dir``.
        columns: the CSV's columns (default: the keys of the first row logged).
    """

    def __init__(
        self,
        run_dir: str | os.PathLike,
        tensorboard: bool = True,
        step_key: str = "env_steps",
        filename: str = "progress.csv",
        columns: list[str] | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.run_dir / filename
        self.step_key = step_key
        self.columns: list[str] | None = list(columns) if columns is not None else None
        if self.csv_path.exists() and self.csv_path.stat().st_size > 0:
            with open(self.csv_path, newline="") as f:
                self.columns = next(csv.reader(f), None)
        self._file = open(self.csv_path, "a", newline="")  # noqa: SIM115 - closed in close()
        self._writer: csv.DictWriter | None = None
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(self.run_dir / "tensorboard"))
            except ImportError:
                warnings.warn(
                    "tensorboard is not installed: logging to CSV only (pip install tensorboard)", stacklevel=2
                )

    @staticmethod
    def truncate(csv_path: str | os.PathLike, max_step: float, step_key: str = "env_steps") -> int:
        """Drop the rows of ``csv_path`` whose ``step_key`` exceeds ``max_step`` (rows logged
        after the checkpoint a run resumes from, which the resumed run logs again); the
        file is rewritten atomically.  Returns how many rows were dropped."""
        path = Path(csv_path)
        if not path.exists() or path.stat().st_size == 0:
            return 0
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        if step_key not in header:
            return 0
        col = header.index(step_key)
        kept = [r for r in body if len(r) == len(header) and _number(r[col]) <= max_step]
        dropped = len(body) - len(kept)
        if dropped:
            tmp = path.with_name(path.name + ".tmp")
            with open(tmp, "w", newline="") as f:
                csv.writer(f).writerows([header, *kept])
            os.replace(tmp, path)
        return dropped

    def log(self, metrics: Mapping[str, float]) -> None:
        if self.columns is None:
            self.columns = list(metrics)
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=self.columns, extrasaction="ignore")
            if self._file.tell() == 0:
                self._writer.writeheader()
        self._writer.writerow({k: metrics.get(k, "") for k in self.columns})
        self._file.flush()
        if self.tb is not None:
            step = int(metrics.get(self.step_key, 0))
            for key, value in metrics.items():
                if isinstance(value, (int, float)) and key != self.step_key:
                    self.tb.add_scalar(f"train/{key}", value, step)

    def close(self) -> None:
        self._file.close()
        if self.tb is not None:
            self.tb.close()

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("inf")
