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
