"""Reading the YAML files users write (hyper-parameters, sweeps), with clear errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["YamlFileError", "load_mapping"]


class YamlFileError(ValueError):
    """A YAML file that is missing, malformed, or not a mapping."""


def load_mapping(path: str | os.PathLike) -> dict[str, Any]:
    """The mapping in the YAML file ``path`` (an empty file is ``{}``)."""
    import yaml

    path = Path(path)
    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise YamlFileError(f"file not found: {path}") from None
    except yaml.YAMLError as err:
        raise YamlFileError(f"{path} is not valid YAML: {err}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise YamlFileError(f"{path} must hold a mapping (key: value lines), got a {type(loaded).__name__}")
    return loaded
