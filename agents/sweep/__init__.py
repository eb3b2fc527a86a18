"""``ram bench``: a grid of algorithms x environments x seeds under one budget, evaluated alike.

One module per idea: :mod:`~agents.sweep.spec` (the YAML sweep format, its checks, the runs
it expands to and their keys), :mod:`~agents.sweep.run` (one run: train, evaluate, write
``result.json``), :mod:`~agents.sweep.executors` (local worker processes with ``--jobs``, or
Ray; the workers' lifetime) and :mod:`~agents.sweep.report` (``results.csv``, ``results.md``
and the pictures).

Every run is keyed by a hash of everything that defines it, and trains in
``OUT/runs/<algo>-<env>-s<seed>-<hash>/`` as a ``ram train`` run directory would
(``config.json``, ``progress.csv``, ``checkpoint.pt`` every 100 updates, ``model.pt``), then
writes ``curve.csv`` and ``result.json``.  Re-running the sweep skips runs whose
``result.json`` says ``ok`` and continues an interrupted run from its checkpoint, so a
sweep stopped by Ctrl-C, SIGTERM or the end of a session resumes where it was; a run
that raises is recorded as ``failed`` (with the error) and the others go on.  One sweep at a
time runs in an output directory (``OUT/.lock``: a second one there is refused).  At the end
``OUT/results.csv`` (every run), ``OUT/results.md`` (per env, track and algorithm: the IQM over
seeds with its 95% bootstrap interval, mean ± std, the budget and the env's chance level),
``OUT/curves.png``, ``OUT/scores.png`` and ``OUT/probability_of_improvement.png`` are written.
"""

from __future__ import annotations

from agents.sweep.executors import run_sweep
from agents.sweep.report import merge_tables, summarize
from agents.sweep.run import CHECKPOINT_EVERY, execute, provenance
from agents.sweep.spec import (
    RunSpec,
    SweepConfig,
    SweepConfigError,
    check_runs,
    expand,
    load_sweep,
    run_hparams,
)

__all__ = [
    "CHECKPOINT_EVERY",
    "RunSpec",
    "SweepConfig",
    "SweepConfigError",
    "check_runs",
    "execute",
    "expand",
    "load_sweep",
    "merge_tables",
    "provenance",
    "run_hparams",
    "run_sweep",
    "summarize",
]
