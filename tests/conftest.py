"""Shared test set-up: headless pygame, a fast hypothesis profile."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from hypothesis import settings  # noqa: E402

settings.register_profile("ram", max_examples=60, deadline=None, derandomize=True)
settings.load_profile("ram")
