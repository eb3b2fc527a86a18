"""Pretrained checkpoints shipped with ram-gym (package data: ``agents/pretrained/<env id>.pt``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["available", "pretrained_path"]


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
