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


class Misbehaving(Guesser):
    """Trains as :class:`Guesser` does, then breaks the contract as ``fault`` says
    (``--set fault=...``; saved with it, so a loaded one breaks it too)."""

    def __init__(self, env_id, seed=0, env_kwargs=None, guess=3, fault="none"):
        if fault == "init":
            raise RuntimeError("Misbehaving cannot start:\nno GPU here")  # two lines: the CLI shows one
        super().__init__(env_id, seed, env_kwargs, guess)
        self.fault = fault

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        action, state = super().predict(observation, state, episode_start, deterministic)
        n = len(action["label"])
        if self.fault == "predict-raises":
            raise KeyError("glimpse")
        if self.fault == "predict-none":
            return None
        if self.fault == "action-only":
            return action
        if self.fault == "missing-key":
            del action["label"]
        if self.fault == "shape":
            action["location"] = np.zeros((n, 3), np.float32)
        if self.fault == "unbatched":
            action["location"] = action["location"][0]
        if self.fault == "dtype":
            action["label"] = np.array(["three"] * n)
        if self.fault == "nan":
            action["location"][n - 1] = np.nan
        if self.fault == "out-of-range":
            action["label"] = np.full(n, 10)  # MNIST has classes 0..9
        return action, state

    def save(self, path, extra=None):
        data = {"env_id": self.env_id, "seed": self.seed, "guess": self.guess, "fault": self.fault}
        Path(path).write_text(json.dumps(data))
        return Path(path)

    @classmethod
    def load(cls, path, env_id=None):
        data = json.loads(Path(path).read_text())
        if data["fault"] == "load-none":
            return None
        if data["fault"] == "load-junk":
            return data  # a dict: no predict, no evaluate
        if data["fault"] == "load-raises":
            raise KeyError("weights")
        return cls(data["env_id"], data["seed"], guess=data["guess"], fault=data["fault"])
