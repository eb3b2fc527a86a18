"""Keep ``benchmarks/results`` to what a reader needs: tables, summaries, pictures, thinned curves.

A run directory copied here after a run holds more than a reader needs: checkpoints, TensorBoard
events, lock files, progress CSVs of one row per update (up to 13 MB).  This script

- deletes every file that is not a table, a summary or a picture (``.csv``, ``.json``, ``.md``,
  ``.png``, ``.gif``, ``.svg``, ``.yaml``), and the ``runs/`` folder of a ``ram bench`` sweep
  (its ``results.csv``/``results.md`` and pictures stay);
- thins every CSV larger than ``--max-bytes`` to evenly spaced rows (the first and the last
  kept), enough for a curve, in place, keeping the header.

Run it before committing results::

    python benchmarks/thin_results.py            # benchmarks/results, 64 KB per CSV
    python benchmarks/thin_results.py --check    # list what it would change; exit 1 if anything

``tests/test_repository.py`` holds the tracked tree to the size the repository allows.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import sys
from pathlib import Path

KEEP_SUFFIXES = {".csv", ".json", ".md", ".png", ".gif", ".svg", ".yaml"}
DEFAULT_MAX_BYTES = 64 * 1024


def thinned(text: str, max_bytes: int) -> str:
    """``text`` (a CSV) with evenly spaced rows, the first and the last kept, under ``max_bytes``."""
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    if len(body) < 3:
        return text
    if len(text.encode()) <= max_bytes:
        return text
    per_row = max(1.0, (len(text) - len(",".join(header))) / len(body))
    keep = min(len(body), max(2, int(max_bytes / per_row) - 1))
    while True:
        picks = sorted({round(i * (len(body) - 1) / (keep - 1)) for i in range(keep)})
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(body[i] for i in picks)
        if len(out.getvalue().encode()) <= max_bytes or keep <= 2:
            return out.getvalue()
        keep = max(2, int(keep * 0.9))


def plan(root: Path, max_bytes: int) -> list[tuple[str, Path]]:
    """What :func:`apply` would do under ``root``: ``("delete" | "thin", path)`` pairs."""
    actions: list[tuple[str, Path]] = []
    sweep_runs = [p for p in root.rglob("runs") if p.is_dir() and (p.parent / "results.csv").exists()]
    actions += [("delete", p) for p in sorted(sweep_runs)]
    for path in sorted(root.rglob("*")):
        if not path.is_file() or any(path.is_relative_to(r) for r in sweep_runs):
            continue
        if path.suffix not in KEEP_SUFFIXES:
            actions.append(("delete", path))
        elif path.suffix == ".csv" and path.stat().st_size > max_bytes:
            actions.append(("thin", path))
    empty = [p for p in sorted(root.rglob("*"), reverse=True) if p.is_dir() and p.name == "tensorboard"]
    actions += [("delete", p) for p in empty if ("delete", p) not in actions]
    return actions


def apply(actions: list[tuple[str, Path]], max_bytes: int) -> None:
    for action, path in actions:
        if not path.exists():
            continue
        if action == "delete":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        else:
            path.write_text(thinned(path.read_text(), max_bytes))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="benchmarks/results", type=Path, help="benchmarks/results")
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="largest CSV kept whole (64 KB)")
    parser.add_argument("--check", action="store_true", help="only list what would change; exit 1 if anything")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"{args.root} is not a directory")
    if args.max_bytes < 1024:
        parser.error(f"--max-bytes must be at least 1024, got {args.max_bytes}")
    actions = plan(args.root, args.max_bytes)
    for action, path in actions:
        print(f"{action:6} {path}")
    if args.check:
        return 1 if actions else 0
    apply(actions, args.max_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
