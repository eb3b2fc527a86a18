"""Plug-in agents for the tests, imported by name (``plugin_agents:Guesser``) as a user's would be."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class Guesser:
    """Always names the label ``guess`` and looks at the centre; a seed of 1 makes it fail."""

    track = "rl"
    default_steps = 600

    def __init__(self, env_id, seed=0, env_kwargs=None, guess=3):
        self.env_id, self.seed, self.env_kwargs, self.guess = env_id, seed, dict(env_kwargs or {}), guess
        self.num_timesteps = 0

    def learn(self, total_timesteps, callback=None, reset_num_timesteps=True):
        if self.seed == 1:
            raise RuntimeError("Guesser was asked to fail on seed 1")
        while self.num_timesteps < total_timesteps:
            self.num_timesteps += 60
            if callback is not None and callback({"env_steps": self.num_timesteps, "reward": 0.1}) is False:
                break
        return self

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        n = np.shape(observation["location"])[0]
        return {"location": np.zeros((n, 2), np.float32), "label": np.full(n, self.guess)}, state

    def save(self, path, extra=None):
        Path(path).write_text(json.dumps({"env_id": self.env_id, "seed": self.seed, "guess": self.guess}))
        return Path(path)

    @classmethod
    def load(cls, path, env_id=None):
        data = json.loads(Path(path).read_text())
        return cls(data["env_id"], data["seed"], guess=data["guess"])


class NoPredict:
    """Lacks predict (and evaluate): refused with a message naming what is missing."""

    track = "rl"

    def learn(self, *a, **k): ...
    def save(self, *a, **k): ...

    @classmethod
    def load(cls, *a, **k): ...


class Idle(Guesser):
    """Returns from ``learn`` at once, never reaching its budget and never asked to stop."""

    def learn(self, total_timesteps, callback=None, reset_num_timesteps=True):
        return self
