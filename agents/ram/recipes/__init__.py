"""RAM recipes shipped with ram-gym: ``RAMConfig`` fields in YAML, selectable by name.

``ram train --env RAM-Catch-v0 --config ram_catch`` or, from Python,
``RAM("RAM-Catch-v0", **load_recipe("ram_catch"))``. Each file's comment says which
task and results it is for (benchmarks/RESULTS.md has the figures).

====================================  ============================================================================
name                                  for
====================================  ============================================================================
``ram_mnist``                         RAM-MNIST-v0 (the shipped model)
``ram_mnist_paper``                   RAM-MNIST-v0 with the paper's optimiser (SGD, momentum, batch 20)
``ram_translated``                    RAM-TranslatedMNIST-v0 (ReLU RNN; shipped before the clutter study)
``ram_translated_lstm``               RAM-TranslatedMNIST-v0 with the clutter study's changes (std 0.1)
``ram_translated_lstm_b64``           RAM-TranslatedMNIST-v0: ``ram_translated_lstm`` with 64-episode batches
``ram_translated_lstm_std015``        RAM-TranslatedMNIST-v0: ``ram_translated_lstm`` with location std 0.15
``ram_translated_lstm_std020``        RAM-TranslatedMNIST-v0: ``ram_translated_lstm`` with location std 0.2
``ram_translated_lstm_std015_ema``    RAM-TranslatedMNIST-v0: ``..._std015`` + averaged weights (the shipped model)
``ram_translated_lstm_std020_ema``    RAM-TranslatedMNIST-v0: ``ram_translated_lstm_std020`` + averaged weights
``ram_translated_conv``               RAM-TranslatedMNIST-v0: ``..._std015_ema`` + conv glimpse network
``ram_cluttered``                     RAM-ClutteredMNIST-v0 (ReLU RNN; shipped before the clutter study)
``ram_cluttered_lstm``                RAM-ClutteredMNIST-v0: the clutter study's choice (the shipped model)
``ram_cluttered_lstm_b64``            RAM-ClutteredMNIST-v0: ``ram_cluttered_lstm`` with 64-episode batches
``ram_cluttered_conv``                RAM-ClutteredMNIST-v0: ``ram_cluttered_lstm`` + conv glimpse network
``ram_cluttered100``                  RAM-ClutteredMNIST100-v0 (ReLU RNN; shipped before the clutter study)
``ram_cluttered100_lstm``             RAM-ClutteredMNIST100-v0 with the clutter study's changes
``ram_cluttered100_lstm_g4``          RAM-ClutteredMNIST100-v0: ``ram_cluttered100_lstm`` with 4 glimpses per episode
``ram_cluttered100_lstm_std030``      RAM-ClutteredMNIST100-v0: ``ram_cluttered100_lstm`` with location std 0.3
``ram_cluttered100_conv``             RAM-ClutteredMNIST100-v0: LSTM recipe + conv glimpse network (the shipped model)
``ram_catch``                         RAM-Catch-v0 (true-state critic and decoder; the privileged model)
``ram_catch_rl``                      RAM-Catch-v0 from the reward alone (the rl-track model)
====================================  ============================================================================
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from agents.yamlfile import YamlFileError, load_mapping

__all__ = ["available_recipes", "load_recipe", "resolve_config"]


def available_recipes() -> list[str]:
    """Names of the shipped recipes."""
    folder = resources.files(__name__)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_recipe(name: str) -> dict[str, Any]:
    """The ``RAMConfig`` fields of the shipped recipe ``name`` (``ValueError`` naming the shipped ones)."""
    if name not in available_recipes():
        raise ValueError(f"no shipped RAM recipe {name!r}; shipped: {', '.join(available_recipes())}")
    return load_mapping(Path(str(resources.files(__name__).joinpath(f"{name}.yaml"))))


def resolve_config(name_or_path: str | os.PathLike) -> dict[str, Any]:
    """A shipped recipe by name (``ram_catch``), else the YAML file at that path.

    Raises :class:`~agents.yamlfile.YamlFileError` naming the shipped recipes when neither exists.
    """
    text = os.fspath(name_or_path)
    if text in available_recipes():
        return load_recipe(text)
    if not Path(text).exists():
        raise YamlFileError(f"{text!r} is neither a shipped recipe ({', '.join(available_recipes())}) nor a YAML file")
    return load_mapping(text)
