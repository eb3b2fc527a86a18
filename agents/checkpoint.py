"""Checkpoint files: atomic writes, safe loads, clear errors.

A checkpoint is a ``torch.save``-d dict of plain Python values and tensors, so it loads
with ``torch.load(path, weights_only=True)`` (no arbitrary code runs on load)::

    {"format": "ram-gym-checkpoint", "format_version": 1, "algo": "ram",
     "env_id": ..., "env_kwargs": {...}, "config": {...}, "model": state_dict,
     "optimizer": state_dict, "progress": {...}, "versions": {...}, ...}
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "restore_weights",
    "FORMAT",
    "FORMAT_VERSION",
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "versions",
    "plain",
]

FORMAT = "ram-gym-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, corrupt, of another format, or for another model or env."""


def versions() -> dict[str, str]:
    """Versions of the packages that wrote a checkpoint."""
    import gymnasium
    import numpy

    import ram_env

    return {
        "ram_gym": str(ram_env.__version__),
        "torch": str(torch.__version__),
        "gymnasium": str(gymnasium.__version__),
        "numpy": str(numpy.__version__),
    }


def plain(value: Any, where: str = "value") -> Any:
    """``value`` as plain Python (dict/list/str/int/float/bool/None), for the checkpoint.

    Raises ``CheckpointError`` naming ``where`` for anything else (e.g. an object).
    """
    import numpy as np

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise CheckpointError(f"{where} = {value!r} cannot be stored in a checkpoint (not a plain value)")


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus format fields) to ``path`` atomically: temp file, then rename.

    A crash while writing leaves the previous file intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(), **payload}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(data, f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, algo: str | None = None, env_id: str | None = None) -> dict[str, Any]:
    """Load and check a checkpoint.

    Args:
        path: the file.
        algo: if given, the algorithm the file must hold (e.g. ``"ram"``).
        env_id: if given, the environment the file must be for.

    Raises:
        CheckpointError: missing, unreadable/corrupt, not a ram-gym checkpoint, a newer
            format, another algorithm, or another environment.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for bad files
        raise CheckpointError(f"{path} is corrupt or not a torch checkpoint: {type(err).__name__}: {err}") from err
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a ram-gym checkpoint (no format={FORMAT!r} field)")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {data.get('format_version')}, newer than this ram-gym "
            f"understands ({FORMAT_VERSION}); upgrade ram-gym"
        )
    for key in ("algo", "env_id", "config", "model"):
        if key not in data:
            raise CheckpointError(f"{path} is missing the {key!r} field")
    if algo is not None and data["algo"] != algo:
        raise CheckpointError(f"{path} holds a {data['algo']!r} model, not {algo!r}")
    if env_id is not None and data["env_id"] != env_id:
        raise CheckpointError(f"{path} was trained on {data['env_id']!r}, not {env_id!r}")
    return data


def restore_weights(
    data: dict[str, Any],
    path: str | os.PathLike,
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
) -> None:
    """Load ``data["model"]`` (and ``data["optimizer"]`` when present) into ``module``/``optimizer``.

    Raises ``CheckpointError`` when the weights do not fit the model the config describes.
    """
    try:
        module.load_state_dict(data["model"])
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not fit the model its config describes: {err}") from err
    if optimizer is not None and "optimizer" in data:
        optimizer.load_state_dict(data["optimizer"])
