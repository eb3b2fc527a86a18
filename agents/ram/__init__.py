"""The Recurrent Attention Model (Mnih et al., 2014): ``from agents.ram import RAM``.

One module per role: :mod:`~agents.ram.model` (the networks of the paper's Figure 1),
:mod:`~agents.ram.config` (hyper-parameters and their checks), :mod:`~agents.ram.rollout`
(playing a batch of episodes), :mod:`~agents.ram.losses` (the hybrid loss),
:mod:`~agents.ram.agent` (learn, predict, save, load) and :mod:`~agents.ram.recipes`
(the shipped configurations).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.ram.agent import RAM
    from agents.ram.config import RAMConfig
    from agents.ram.losses import advantages, hybrid_loss, reinforce
    from agents.ram.model import (
        ActionNetwork,
        BaselineNetwork,
        CoreNetwork,
        GlimpseNetwork,
        LocationNetwork,
        RecurrentAttentionModel,
        StateCritic,
        StateDecoder,
    )
    from agents.ram.recipes import available_recipes, load_recipe
    from agents.ram.rollout import Rollout, collect

__all__ = [
    "RAM",
    "RAMConfig",
    "Rollout",
    "collect",
    "advantages",
    "reinforce",
    "hybrid_loss",
    "available_recipes",
    "load_recipe",
    "RecurrentAttentionModel",
    "GlimpseNetwork",
    "CoreNetwork",
    "LocationNetwork",
    "ActionNetwork",
    "BaselineNetwork",
    "StateCritic",
    "StateDecoder",
]

#: where each public name lives: imported on first use, so that ``agents.ram.recipes`` (read by
#: ``ram --help``) and ``agents.ram.config`` work without torch installed
_HOMES = {
    "RAM": "agent",
    "RAMConfig": "config",
    "Rollout": "rollout",
    "collect": "rollout",
    "advantages": "losses",
    "reinforce": "losses",
    "hybrid_loss": "losses",
    "available_recipes": "recipes",
    "load_recipe": "recipes",
    **{name: "model" for name in __all__ if name.endswith(("Network", "Model", "Critic", "Decoder"))},
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'agents.ram' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"agents.ram.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
