"""Pretrained checkpoints shipped with ram-gym (package data).

``agents/pretrained/<env id>.pt`` is an env's model; a model of another benchmark track
(``"rl"``: trained from the reward alone, ``"privileged"``: training read ``info["label"]`` or
``info["state"]``) ships beside it as ``<env id>.<track>.pt``.  Each checkpoint declares its
track (``track``), and :func:`tracks` lists what is shipped for an env.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "available",
    "tracks",
    "pretrained_path",
    "checkpoint_track",
    "ModelCard",
    "model_card",
    "runnable_command",
]

TRACK_NAMES = ("rl", "privileged")  #: the benchmark tracks (``agents.base.TRACKS``, without importing it)


def _folder() -> Path:
    """Where the shipped checkpoints are (this package's folder)."""
    return Path(str(resources.files(__name__)))


def _file(name: str) -> Path:
    return _folder() / name


def available() -> list[str]:
    """Env ids with a shipped checkpoint (of any track)."""
    names = (p.name for p in _folder().iterdir() if p.name.endswith(".pt"))
    return sorted({name[: -len(".pt")] for name in names if not name.endswith(tuple(f".{t}.pt" for t in TRACK_NAMES))})


def checkpoint_track(data: dict[str, Any]) -> str:
    """The track a loaded checkpoint declares (``track``); older files without the field are
    ``"privileged"`` when their RAM config reads the label or the true state, else ``"rl"``."""
    track = data.get("track")
    if isinstance(track, str) and track in TRACK_NAMES:
        return track
    from agents.ram.config import track_of

    return track_of(data.get("config", {}))


def _default_track(env_id: str) -> str:
    from agents.checkpoint import load_checkpoint

    return checkpoint_track(load_checkpoint(_file(f"{env_id}.pt"), env_id=env_id))


def tracks(env_id: str) -> list[str]:
    """The tracks with a shipped model for ``env_id`` (the env's own model first; needs torch)."""
    if not _file(f"{env_id}.pt").is_file():
        return []
    first = _default_track(env_id)
    return [first] + [t for t in TRACK_NAMES if t != first and _file(f"{env_id}.{t}.pt").is_file()]


def pretrained_path(env_id: str, track: str | None = None) -> Path:
    """Path of the shipped checkpoint for ``env_id`` (``track``: ``"rl"`` or ``"privileged"``;
    ``None``: the env's own model); ``FileNotFoundError`` naming what is shipped."""
    if track is not None and track not in TRACK_NAMES:
        raise ValueError(f"track must be one of {TRACK_NAMES} or None, got {track!r}")
    path = _file(f"{env_id}.pt")
    if not path.is_file():
        shipped = ", ".join(available()) or "none yet"
        raise FileNotFoundError(f"no pretrained checkpoint for {env_id!r}; shipped: {shipped}")
    if track is None:
        return path
    other = _file(f"{env_id}.{track}.pt")
    if other.is_file():
        return other
    if _default_track(env_id) == track:
        return path
    raise FileNotFoundError(
        f"no {track}-track model is shipped for {env_id!r}; its shipped track(s): {', '.join(tracks(env_id))}"
    )


@dataclass(frozen=True)
class ModelCard:
    """What a shipped model is: the env it was trained and scored on, its score, how it was trained."""

    env_id: str
    env_kwargs: dict[str, Any]  #: the env keywords it needs (e.g. ``initial_location="center"``)
    track: str  #: ``"rl"`` (the reward alone) or ``"privileged"`` (training read the label or true state)
    test_error: float  #: whole test split (Catch: 1,000 seeded games missed), deterministic, one sample
    command: str  #: the ``ram train`` command(s) that trained it, runnable as written
    env_steps: int
    train_seconds: float | None

    @property
    def make(self) -> str:
        """The ``gym.make`` call of the env its score is for."""
        kwargs = "".join(f", {k}={v!r}" for k, v in self.env_kwargs.items())
        return f'gym.make("{self.env_id}"{kwargs})'


def model_card(env_id: str, track: str | None = None) -> ModelCard:
    """The :class:`ModelCard` of the shipped model for ``env_id`` (``track``: as
    :func:`pretrained_path`; needs torch to read the file)."""
    from agents.checkpoint import load_checkpoint

    data = load_checkpoint(pretrained_path(env_id, track), env_id=env_id)
    extra = data.get("extra", {})
    return ModelCard(
        env_id=env_id,
        env_kwargs=dict(data.get("config", {}).get("env_kwargs", {})),
        track=checkpoint_track(data),
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
