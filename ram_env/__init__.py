"""ram-gym environments: the tasks of *Recurrent Models of Visual Attention* (Mnih et al., 2014).

Importing the package registers the environments with Gymnasium::

    import gymnasium as gym
    import ram_env

    env = gym.make("RAM-ClutteredMNIST-v0")
    envs = gym.make_vec("RAM-ClutteredMNIST-v0", num_envs=64)

=============================  ======================  ========  ================
id                             image                   glimpses  retina
=============================  ======================  ========  ================
``RAM-MNIST-v0``               28x28                   6         8x8, 1 scale
``RAM-TranslatedMNIST-v0``     60x60                   8         12x12, 3 scales
``RAM-ClutteredMNIST-v0``      60x60, 4 distractors    8         12x12, 3 scales
``RAM-ClutteredMNIST100-v0``   100x100, 8 distractors  8         12x12, 4 scales
``RAM-Catch-v0``               24x24 game              23 steps  6x6, 3 scales
=============================  ======================  ========  ================
"""

from __future__ import annotations

from ram_env import api as _api
from ram_env.api import TaskKind as TaskKind  # what agents may ask of an env (ram_env/api.py)
from ram_env.api import episode_image as episode_image
from ram_env.api import get_rng_state as get_rng_state
from ram_env.api import glimpse_sensor as glimpse_sensor
from ram_env.api import glimpse_task as glimpse_task
from ram_env.api import image_dataset as image_dataset
from ram_env.api import set_rng_state as set_rng_state
from ram_env.api import task_kind as task_kind
from ram_env.catch import CatchEnv, CatchVectorEnv
from ram_env.classification import GlimpseClassificationEnv, GlimpseClassificationVectorEnv
from ram_env.core import InvalidAction
from ram_env.mnist import MnistDataError
from ram_env.registration import ENV_IDS, PAPER_SETTINGS, register_envs
from ram_env.sensor import GlimpseSensor

__version__ = "0.1.0"
__all__ = [
    "CatchEnv",
    "CatchVectorEnv",
    "ENV_IDS",
    "PAPER_SETTINGS",
    "GlimpseClassificationEnv",
    "GlimpseClassificationVectorEnv",
    "GlimpseSensor",
    "InvalidAction",
    "MnistDataError",
    "register_envs",
    *_api.__all__,  # what agents may ask of an env (ram_env/api.py)
]

register_envs()
