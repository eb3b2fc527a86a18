"""The Recurrent Attention Model (Mnih et al., 2014): ``from agents.ram import RAM``.

One module per role: :mod:`~agents.ram.model` (the networks of the paper's Figure 1),
:mod:`~agents.ram.config` (hyper-parameters and their checks), :mod:`~agents.ram.rollout`
(playing a batch of episodes), :mod:`~agents.ram.losses` (the hybrid loss),
:mod:`~agents.ram.agent` (learn, predict, save, load) and :mod:`~agents.ram.recipes`
(the shipped configurations).
"""

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
