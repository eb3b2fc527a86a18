"""Shared test set-up: headless pygame, a fast hypothesis profile."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from hypothesis import settings  # noqa: E402

settings.register_profile("ram", max_examples=60, deadline=None, derandomize=True)
settings.load_profile("ram")

# as many torch threads as there are idle cores: with a busy core, 2 threads run 2.7x slower
from agents.threads import use_free_cores  # noqa: E402

use_free_cores()


import pytest  # noqa: E402


@pytest.fixture
def cli_error(capsys):
    """``cli_error(argv)``: run ``ram argv``, check it fails as bad input does (one line on
    stderr, exit code 2, no traceback) and return that line."""
    from agents import cli

    def run(argv):
        capsys.readouterr()
        code = cli.main(argv)
        err = capsys.readouterr().err.strip()
        assert code == 2, (code, err)
        assert err and "Traceback" not in err and len(err.splitlines()) == 1, err
        return err

    return run


@pytest.fixture(autouse=True)
def _restore_algorithm_table():
    """A test that registers an algorithm (a plug-in) leaves the table as it found it."""
    from agents.registry import ALGORITHMS

    before = dict(ALGORITHMS)
    yield
    ALGORITHMS.clear()
    ALGORITHMS.update(before)
