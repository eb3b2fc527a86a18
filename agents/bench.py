"""``ram bench``: a grid of algorithms x environments x seeds under one budget, evaluated alike.

The code lives in :mod:`agents.sweep`, one module per idea: :mod:`~agents.sweep.spec` (the
YAML sweep format), :mod:`~agents.sweep.run` (one run), :mod:`~agents.sweep.executors`
(local processes or Ray) and :mod:`~agents.sweep.report` (results.csv, results.md, pictures).
This module keeps ``from agents.bench import ...`` (and the ``ram bench`` command) working.
"""

from __future__ import annotations

from agents.sweep import CHECKPOINT_EVERY as CHECKPOINT_EVERY
from agents.sweep import RunSpec, SweepConfig, load_sweep, run_hparams, run_sweep, summarize
from agents.sweep import SweepConfigError as SweepConfigError
from agents.sweep import check_runs as check_runs
from agents.sweep import execute as execute
from agents.sweep import expand as expand
from agents.sweep import merge_tables as merge_tables
from agents.sweep import provenance as provenance

# ``from agents.bench import *`` gives what it gave before the split; the rest is importable by name
__all__ = ["SweepConfig", "RunSpec", "load_sweep", "run_hparams", "run_sweep", "summarize"]
