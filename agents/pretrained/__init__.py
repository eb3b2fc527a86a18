"""Pretrained checkpoints shipped with ram-gym (package data: ``agents/pretrained/<env id>.pt``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["available", "pretrained_path", "ModelCard", "model_card", "runnable_command"]


def available() -> list[str]:
    """Env ids with a shipped checkpoint."""
    folder = resources.files(__name__)
    return sorted(p.name[: -len(".pt")] for p in folder.iterdir() if p.name.endswith(".pt"))


def pretrained_path(env_id: str) -> Path:
    """Path of the shipped checkpoint for ``env_id``; ``FileNotFoundError`` naming what is shipped."""
    path = Path(str(resources.files(__name__).joinpath(f"{env_id}.pt")))
    if not path.is_file():
        shipped = ", ".join(available()) or "none yet"
        raise FileNotFoundError(f"no pretrained checkpoint for {env_id!r}; shipped: {shipped}")
    return path


@dataclass(frozen=True)
class ModelCard:
    """What a shipped model is: the env it was trained and scored on, its score, how it was trained."""

    env_id: str
    env_kwargs: dict[str, Any]  #: the env keywords it needs (e.g. ``initial_location="center"``)
    test_error: float  #: whole test split (Catch: 1,000 seeded games missed), deterministic, one sample
    command: str  #: the ``ram train`` command(s) that trained it, runnable as written
    env_steps: int
    train_seconds: float | None

    @property
    def make(self) -> str:
        """The ``gym.make`` call of the env its score is for."""
        kwargs = "".join(f", {k}={v!r}" for k, v in self.env_kwargs.items())
        return f'gym.make("{self.env_id}"{kwargs})'


def model_card(env_id: str) -> ModelCard:
    """The :class:`ModelCard` of the shipped model for ``env_id`` (needs torch to read the file)."""
    from agents.checkpoint import load_checkpoint

    data = load_checkpoint(pretrained_path(env_id), env_id=env_id)
    extra = data.get("extra", {})
    return ModelCard(
        env_id=env_id,
        env_kwargs=dict(data.get("config", {}).get("env_kwargs", {})),
        test_error=float(extra.get("test_error", float("nan"))),
        command=runnable_command(str(extra.get("command", ""))),
        env_steps=int(extra.get("env_steps", 0)),
        train_seconds=extra.get("train_seconds"),
    )


def runnable_command(command: str) -> str:
    """A recorded training command as a user can run it from a clone: recipe files that moved into
    the package are named as recipes (``--config ram_catch``), an absolute ``--out`` (the training
    machine's) becomes ``runs/<name>``, and a fine-tune (``...; then ram train --init-from ID``)
    starts from the model the step before it wrote, not from today's shipped model."""
    steps: list[str] = []
    for step in command.split("; then "):
        step = re.sub(r"--config \S*?/(ram_\w+)\.ya?ml", r"--config \1", step)
        step = re.sub(r"--out /\S*/(\S+)", r"--out runs/\1", step)
        before = re.search(r"--out (\S+)", steps[-1]) if steps else None
        if before is not None:
            step = re.sub(r"--init-from RAM-[\w-]+-v\d+\b", f"--init-from {before.group(1)}/model.pt", step)
        steps.append(step)
    return "; then ".join(steps)
