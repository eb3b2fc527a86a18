"""How many torch CPU threads to train with: as many as there are idle cores.

On a 2-core machine with another busy process, torch's default of 2 threads makes every
update wait on the busy core (measured in benchmarks/RESULTS.md, "Torch threads": RAM
``learn(30_000)`` took 2.7x longer with 2 threads than with 1).  :func:`free_cores`
samples ``/proc/stat`` for a quarter of a second and counts the idle cores;
``ram train --threads auto`` (the default) and :func:`use_free_cores` use it.
"""

from __future__ import annotations

import os
import time

_AUTO_CHOSEN: int | None = None  #: the threads this process chose (``--threads``, or "auto" sampled once)

__all__ = ["free_cores", "use_free_cores", "parse_threads", "choose_threads", "device_threads_wanted"]


def _cpu_times() -> tuple[float, float] | None:
    try:
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return idle, sum(fields)


def free_cores(sample_seconds: float = 0.25) -> int:
    """Cores that were idle over the last ``sample_seconds`` (at least 1; all cores where
    ``/proc/stat`` is not available)."""
    cores = os.cpu_count() or 1
    before = _cpu_times()
    if before is None:
        return cores
    time.sleep(sample_seconds)
    after = _cpu_times()
    if after is None or after[1] <= before[1]:
        return cores
    idle_fraction = (after[0] - before[0]) / (after[1] - before[1])
    return max(1, min(cores, int(idle_fraction * cores + 0.25)))


def parse_threads(value: str) -> int | None:
    """``--threads`` values: ``auto`` (``None``) or a positive integer."""
    if value == "auto":
        return None
    try:
        threads = int(value)
    except ValueError:
        raise ValueError(f"--threads takes 'auto' or a positive integer, got {value!r}") from None
    if threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    return threads


def use_free_cores(threads: int | None = None) -> int:
    """Set torch's CPU threads to ``threads`` (``None``: :func:`free_cores`); returns the number."""
    import torch

    global _AUTO_CHOSEN
    chosen = free_cores() if threads is None else int(threads)
    torch.set_num_threads(chosen)
    _AUTO_CHOSEN = chosen  # what learn(threads="auto") keeps for the rest of the process
    return chosen


def device_threads_wanted(device: object, threads: int | str | None) -> bool:
    """Whether ``learn(threads=...)`` should set torch's CPU threads: not for ``None``, and
    ``"auto"`` only for a model on the CPU (on a GPU the threads barely matter)."""
    if threads is None:
        return False
    return not (threads == "auto" and getattr(device, "type", str(device)) != "cpu")


def choose_threads(threads: int | str) -> int:
    """``learn(threads=...)``: an int sets torch's CPU threads; ``"auto"`` sets the idle cores the
    first time a process trains (sampled once, a quarter second) and afterwards leaves torch's
    setting alone - the CLI's ``--threads``, an earlier :func:`use_free_cores`, or what a forked
    worker set for itself.  ``ValueError`` for anything else."""
    if threads == "auto":
        if _AUTO_CHOSEN is None:
            return use_free_cores(None)
        # chosen before (or by the parent of a forked worker, which set its own): leave torch as it
        # is - starting a thread pool again in a forked child can deadlock it
        import torch

        return torch.get_num_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be 'auto', None or a positive integer, got {threads!r}")
    return use_free_cores(threads)
