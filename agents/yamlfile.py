"""Reading the YAML files users write (hyper-parameters, sweeps), with clear errors.

Every YAML text ram-gym reads goes through :func:`parse`: PyYAML's safe loader (plain
values only, no Python objects), refusing **aliases** (``*name``: a 1 KB "billion
laughs" file expands to gigabytes) and **duplicate keys** (which PyYAML silently
resolves to the last one), and bounded in size.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["YamlFileError", "load_mapping", "parse", "MAX_BYTES"]

MAX_BYTES = 1_000_000  #: larger YAML files are refused (ours are a few hundred bytes)


class YamlFileError(ValueError):
    """A YAML file that is missing, malformed, or not a mapping."""


def _loader() -> type:
    import yaml

    class StrictLoader(yaml.SafeLoader):
        """The safe loader, without aliases and duplicate keys."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not allowed in ram-gym YAML files", event.start_mark
                )
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def parse(text: str, where: str = "YAML") -> Any:
    """The value of YAML ``text``; :class:`YamlFileError` naming ``where`` and the problem."""
    import yaml

    if len(text) > MAX_BYTES:
        raise YamlFileError(f"{where} is too large ({len(text):,} characters; at most {MAX_BYTES:,})")
    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        raise YamlFileError(f"{where} is not valid YAML: {' '.join(str(err).split())}") from None


def load_mapping(path: str | os.PathLike) -> dict[str, Any]:
    """The mapping in the YAML file ``path`` (an empty file is ``{}``)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise YamlFileError(f"{path} is too large ({size:,} bytes; at most {MAX_BYTES:,})")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlFileError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise YamlFileError(f"{path} is a directory, not a YAML file") from None
    except UnicodeDecodeError as err:
        raise YamlFileError(f"{path} is not UTF-8 text: {err}") from None
    loaded = parse(text, str(path))
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise YamlFileError(f"{path} must hold a mapping (key: value lines), got a {type(loaded).__name__}")
    return loaded
