"""Checkpoint files: atomic writes, safe loads, clear errors.

A checkpoint is a ``torch.save``-d dict of plain Python values and tensors, so it loads
with ``torch.load(path, weights_only=True)`` (no arbitrary code runs on load)::

    {"format": "ram-gym-checkpoint", "format_version": 2, "digest": "<sha256>",
     "algo": "ram", "env_id": ..., "config": {...}, "model": state_dict,
     "optimizer": state_dict, "progress": {...}, "versions": {...}, ...}

Loading is defensive, since a checkpoint may come from anywhere:

* **no field causes an import**: ``env_id`` must name an id that is already registered
  (Gymnasium's ``module:id`` form, which imports ``module``, is refused);
* **integrity**: ``digest`` is the SHA-256 of every other field (tensors by dtype, shape
  and bytes), so one flipped byte in a weight or an edited config value is a
  :class:`CheckpointError` (torch itself does not check the archive's CRCs);
* **schema**: the common fields are type-checked here, each agent checks its own
  (:func:`require`), and anything that does not fit names the field.
"""

from __future__ import annotations

import errno
import hashlib
import os
import struct
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
    "digest",
    "require",
]

FORMAT = "ram-gym-checkpoint"
FORMAT_VERSION = 2  #: 2 adds the digest; version-1 files (no digest) still load
MAX_ARRAY = 10_000  #: elements of an array a plain field may hold (weights are tensors, not fields)


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
        if value.size > MAX_ARRAY:
            raise CheckpointError(
                f"{where} is a {value.shape} array, too large to store in a checkpoint; keep it in a file and pass "
                "its path instead (e.g. RAM-Glimpse-v0's data='images.npz')"
            )
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fsdecode(os.fspath(value))
    if isinstance(value, bytes):  # a file path as bytes (not UTF-8, say): the str the OS maps it to
        return os.fsdecode(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise CheckpointError(f"{where} = {value!r} cannot be stored in a checkpoint (not a plain value)")


def digest(value: Any) -> str:
    """SHA-256 of a checkpoint's content: plain values and tensors, in a canonical order."""
    h = hashlib.sha256()
    _feed(h, value)
    return h.hexdigest()


def _feed(h: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        h.update(b"T" + str(t.dtype).encode() + repr(tuple(t.shape)).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(value, Mapping):
        h.update(b"D" + struct.pack("<q", len(value)))
        for key in sorted(value, key=repr):
            _feed(h, key)
            _feed(h, value[key])
    elif isinstance(value, (list, tuple)):
        h.update((b"L" if isinstance(value, list) else b"U") + struct.pack("<q", len(value)))
        for item in value:
            _feed(h, item)
    elif isinstance(value, bool) or value is None:
        h.update(b"B" + repr(value).encode())
    elif isinstance(value, (int, float, str, bytes)):
        h.update(type(value).__name__.encode()[:1] + repr(value).encode() + b"\0")
    else:
        h.update(b"O" + type(value).__name__.encode() + repr(value).encode())


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus format fields and its digest) to ``path`` atomically: temp
    file, then rename.  A crash, a kill or a full disk while writing leaves the previous
    file intact; a failed write raises :class:`CheckpointError` naming the cause.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(), **payload}
    data["digest"] = digest(data)
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
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError) or (isinstance(err, RuntimeError) and "unexpected pos" in str(err)):
            full = isinstance(err, OSError) and err.errno == errno.ENOSPC or "unexpected pos" in str(err)
            why = "the disk is full" if full else f"{type(err).__name__}: {err}"
            kept = " (the previous checkpoint is kept)" if path.exists() else ""
            raise CheckpointError(f"could not write {path}: {why}{kept}") from err
        raise
    return path


def require(
    value: Any, field: str, kind: type | tuple[type, ...], path: str | os.PathLike, low: float | None = None
) -> Any:
    """``value`` if it is a ``kind`` (bools are not ints) and ``>= low``; else a
    :class:`CheckpointError` naming ``field``."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if ok and low is not None:
        ok = value >= low
    if not ok:
        names = " or ".join(k.__name__ for k in kinds) + (f" >= {low}" if low is not None else "")
        raise CheckpointError(f"{path}: field {field} must be {names}, got {value!r:.80}")
    return value


def check_env_id(env_id: Any, path: str | os.PathLike) -> str:
    """``env_id`` if it names an environment that is already registered.

    Gymnasium's ``module:id`` form imports ``module`` (running its code), so a checkpoint
    may name only a registered id, never a module.
    """
    import gymnasium as gym

    import ram_env  # noqa: F401  (registers the ram-gym ids)

    if not isinstance(env_id, str) or ":" in env_id or env_id not in gym.envs.registry:
        raise CheckpointError(
            f"{path}: field env_id {env_id!r:.80} is not a registered environment id "
            "(a checkpoint may not name a module to import)"
        )
    return env_id


def load_checkpoint(path: str | os.PathLike, algo: str | None = None, env_id: str | None = None) -> dict[str, Any]:
    """Load and check a checkpoint.

    Args:
        path: the file.
        algo: if given, the algorithm the file must hold (e.g. ``"ram"``).
        env_id: if given, the environment the file must be for.

    Raises:
        CheckpointError: missing, unreadable/corrupt (digest mismatch), not a ram-gym
            checkpoint, a newer format, a malformed field, an unregistered env id,
            another algorithm, or another environment.
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
    version = require(data.get("format_version", 1), "format_version", int, path, low=1)
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {version}, newer than this ram-gym understands ({FORMAT_VERSION}); "
            "upgrade ram-gym"
        )
    if version >= 2:
        stored = data.pop("digest", None)
        if not isinstance(stored, str) or stored != digest(data):
            raise CheckpointError(
                f"{path} is corrupt: its content does not match its digest (a changed byte or an edited field)"
            )
    for key in ("algo", "env_id", "config", "model"):
        if key not in data:
            raise CheckpointError(f"{path} is missing the {key!r} field")
    require(data["algo"], "algo", str, path)
    require(data["config"], "config", dict, path)
    require(data["model"], "model", dict, path)
    for key in ("progress", "extra", "spaces", "rng", "optimizer"):
        if key in data:
            require(data[key], key, dict, path)
    for key, value in data.get("progress", {}).items():
        require(value, f"progress.{key}", int, path, low=0)
    if "track" in data and data["track"] not in ("rl", "privileged"):
        raise CheckpointError(f"{path}: field track must be 'rl' or 'privileged', got {data['track']!r}")
    if algo is not None and data["algo"] != algo:
        raise CheckpointError(f"{path} holds a {data['algo']!r} model, not {algo!r}")
    check_env_id(data["env_id"], path)
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
    except (RuntimeError, TypeError, ValueError, KeyError) as err:
        raise CheckpointError(
            f"{path}: field model: the weights do not fit the model its config describes: {err}"
        ) from err
    if optimizer is not None and "optimizer" in data:
        try:
            optimizer.load_state_dict(data["optimizer"])
            for state in optimizer.state.values():  # a foreign state can load and fail only at the first step
                for name, value in state.items():
                    if isinstance(value, torch.Tensor) and name != "step":
                        params = [p for g in optimizer.param_groups for p in g["params"] if optimizer.state[p] is state]
                        if params and value.shape != params[0].shape:
                            raise ValueError(
                                f"state {name!r} has shape {tuple(value.shape)}, its parameter {tuple(params[0].shape)}"
                            )
        except (RuntimeError, TypeError, ValueError, KeyError, IndexError) as err:
            raise CheckpointError(f"{path}: field optimizer does not fit this model's optimiser: {err}") from err
