"""The Recurrent Attention Model (Mnih et al., 2014): ``from agents.ram import RAM``."""

from agents.ram.agent import RAM, RAMConfig, hybrid_loss
from agents.ram.model import (
    ActionNetwork,
    BaselineNetwork,
    CoreNetwork,
    GlimpseNetwork,
    LocationNetwork,
    RecurrentAttentionModel,
    StateCritic,
)

__all__ = [
    "RAM",
    "RAMConfig",
    "hybrid_loss",
    "RecurrentAttentionModel",
    "GlimpseNetwork",
    "CoreNetwork",
    "LocationNetwork",
    "ActionNetwork",
    "BaselineNetwork",
    "StateCritic",
]
