"""One process at a time in a directory: an exclusive ``flock`` on a lock file that names its holder."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["directory_lock"]


@contextmanager
def directory_lock(out: Path, filename: str, refuse: Callable[[str], Exception]) -> Iterator[None]:
    """Hold an exclusive lock on ``out/filename`` (``out`` is created) for the ``with`` block.

    The file records the holder (``pid N``).  When another process holds it, ``refuse(holder)``
    is raised at once, before anything in ``out`` is read or written.  Processes forked inside
    the block inherit the open file, and with it the lock.
    """
    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / filename, "a+")  # noqa: SIM115 - held for the duration
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise refuse(handle.read().strip() or "another process") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()
