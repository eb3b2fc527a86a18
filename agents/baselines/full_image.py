"""The paper's full-image baselines: a fully connected net and a small CNN, trained supervised.

They see the whole canvas (no glimpses) of the same task: the same split, the same
translation and clutter (drawn by :class:`~ram_env.datasets.DigitCanvases` with the
environment's settings), so their test error is directly comparable with the RAM's.

* ``fc``: the paper's "FC, 2 layers (256 hiddens each)": ``Linear(HW, 256) - ReLU -
  Linear(256, 256) - ReLU - Linear(256, 10)``.
* ``cnn``: two convolutional layers and a fully connected layer:
  ``Conv(1->16, 5x5, stride 2) - ReLU - Conv(16->32, 5x5, stride 2) - ReLU - Linear(256) -
  ReLU - Linear(10)`` (the paper gives no exact sizes for its convolutional baseline).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

import ram_env
from agents.base import Track
from agents.checkpoint import CheckpointError, load_checkpoint, plain, restore_weights, save_checkpoint
from agents.evaluation import EvalResult
from ram_env.datasets import DigitCanvases

__all__ = ["FullImageClassifier", "FullImageConfig", "FULL_IMAGE_ALGOS"]

FULL_IMAGE_ALGOS = ("fc", "cnn")
_CANVAS_KEYS = ("canvas_size", "n_distractors", "distractor_size", "data_dir")


@dataclass
class FullImageConfig:
    """Hyper-parameters of the full-image baselines."""

    batch_size: int = 128
    """Canvases per gradient step."""
    learning_rate: float = 1e-3
    """Adam learning rate."""
    hidden: int = 256
    """Units of the fully connected layers."""
    env_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Keywords of the environment whose canvases are learned (e.g. ``{"n_distractors": 8}``)."""


def build_network(algo: str, canvas_size: int, hidden: int = 256) -> nn.Module:
    """The FC or CNN network for ``canvas_size x canvas_size`` inputs ``(B, 1, S, S)``."""
    if algo == "fc":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(canvas_size * canvas_size, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 10),
        )
    if algo == "cnn":
        conv = nn.Sequential(
            nn.Conv2d(1, 16, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(16, 32, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n_flat = conv(torch.zeros(1, 1, canvas_size, canvas_size)).shape[1]
        return nn.Sequential(conv, nn.Linear(n_flat, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    raise ValueError(f"full-image algo must be one of {FULL_IMAGE_ALGOS}, got {algo!r}")


class FullImageClassifier:
    """A supervised full-image baseline for a ram-gym classification env.

    Args:
        algo: ``"fc"`` or ``"cnn"``.
        env_id: a classification id (its canvas settings define the images).
        seed: seeds torch and the canvas generator.
        **hparams: fields of :class:`FullImageConfig`.
    """

    track: Track = "privileged"  #: trained supervised on the true labels

    def __init__(self, algo: str, env_id: str, seed: int | None = 0, **hparams: Any) -> None:
        known = {f.name for f in dataclasses.fields(FullImageConfig)}
        unknown = sorted(set(hparams) - known)
        if unknown:
            raise ValueError(f"unknown {algo} hyper-parameter(s) {unknown}; known: {sorted(known)}")
        if algo not in FULL_IMAGE_ALGOS:
            raise ValueError(f"full-image algo must be one of {FULL_IMAGE_ALGOS}, got {algo!r}")
        self.algo = algo
        self.env_id = env_id
        self.seed = 0 if seed is None else int(seed)
        self.config = FullImageConfig(**hparams)
        probe = gym.make(env_id, **self.config.env_kwargs)
        if ram_env.task_kind(probe) != "classification":
            raise ValueError(f"{env_id} is not a classification env: full-image baselines need digit canvases")
        dataset = ram_env.image_dataset(probe)
        if not isinstance(dataset, DigitCanvases):
            raise ValueError(f"the full-image baselines run on the MNIST tasks; {env_id} is another image set")
        self.canvas_kwargs = {k: getattr(dataset, k) for k in _CANVAS_KEYS}
        probe.close()
        self._data: dict[str, DigitCanvases] = {}
        torch.manual_seed(self.seed)
        self.network = build_network(algo, self.canvas_kwargs["canvas_size"], self.config.hidden)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=self.config.learning_rate)
        self.rng = np.random.default_rng(self.seed)
        self.num_timesteps = 0  #: training images seen
        self.num_updates = 0

    @property
    def env_kwargs(self) -> dict[str, Any]:
        return dict(self.config.env_kwargs)

    def dataset(self, split: str) -> DigitCanvases:
        if split not in self._data:
            self._data[split] = DigitCanvases(split, **self.canvas_kwargs)
        return self._data[split]

    def learn(
        self,
        total_timesteps: int,
        callback: Callable[[dict[str, float]], bool | None] | None = None,
        reset_num_timesteps: bool = True,
    ) -> FullImageClassifier:
        """Train on ``total_timesteps`` fresh training canvases (one "step" = one image)."""
        if reset_num_timesteps:
            self.num_timesteps = self.num_updates = 0
        data = self.dataset("train")
        self.network.train()
        while self.num_timesteps < total_timesteps:
            n = self.config.batch_size
            canvases, indices = data.render(self.rng.random((n, data.layout_width)))
            x = torch.as_tensor(canvases, dtype=torch.float32)[:, None] / 255.0
            y = torch.as_tensor(data.labels[indices])
            logits = self.network(x)
            loss = nn.functional.cross_entropy(logits, y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.num_timesteps += n
            self.num_updates += 1
            metrics = {
                "update": self.num_updates,
                "env_steps": self.num_timesteps,
                "cross_entropy": loss.item(),
                "accuracy": (logits.argmax(1) == y).float().mean().item(),
            }
            metrics["reward"] = metrics["accuracy"]
            if callback is not None and callback(metrics) is False:
                break
        return self

    def predict_images(self, canvases: np.ndarray) -> np.ndarray:
        """uint8 ``(N, S, S)`` canvases -> int64 ``(N,)`` labels."""
        self.network.eval()
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(canvases), dtype=torch.float32)[:, None] / 255.0
            return self.network(x).argmax(1).numpy()

    def evaluate(self, n_episodes: int | None = None, split: str = "test", batch: int = 1000, **_: Any) -> EvalResult:
        """Accuracy on the fixed ``split`` (the same images and clutter the environments show)."""
        start = time.perf_counter()
        data = self.dataset(split)
        n = len(data) if n_episodes is None else n_episodes
        if not data.fixed or not 1 <= n <= len(data):
            raise ValueError(f"evaluate on the first 1..{len(data)} images of 'test' or 'validation', got {split} {n}")
        correct = 0
        for lo in range(0, n, batch):
            idx = np.arange(lo, min(lo + batch, n))
            canvases, _indices = data.render(data.fixed_layouts(idx), idx)
            correct += int((self.predict_images(canvases) == data.labels[idx]).sum())
        return EvalResult(self.env_id, split, n, correct / n, time.perf_counter() - start, True, 1, 0)

    def save(self, path: str | os.PathLike, extra: dict[str, Any] | None = None) -> Path:
        payload = {
            "algo": self.algo,
            "env_id": self.env_id,
            "config": plain(dataclasses.asdict(self.config), "config"),
            "seed": self.seed,
            "model": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "progress": {"num_timesteps": self.num_timesteps, "num_updates": self.num_updates},
            "extra": plain(extra or {}, "extra"),
        }
        return save_checkpoint(path, payload)

    @classmethod
    def load(cls, path: str | os.PathLike, env_id: str | None = None) -> FullImageClassifier:
        data = load_checkpoint(path, env_id=env_id)
        if data["algo"] not in FULL_IMAGE_ALGOS:
            raise CheckpointError(f"{path} holds a {data['algo']!r} model, not a full-image baseline")
        agent = cls(data["algo"], data["env_id"], seed=data.get("seed"), **data["config"])
        restore_weights(data, path, agent.network, agent.optimizer)
        progress = data.get("progress", {})
        agent.num_timesteps = int(progress.get("num_timesteps", 0))
        agent.num_updates = int(progress.get("num_updates", 0))
        return agent
