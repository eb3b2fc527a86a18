"""Registration of every ram-gym environment id with Gymnasium (run on ``import ram_env``)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

__all__ = ["PAPER_SETTINGS", "IMAGE_ENV_IDS", "ENV_IDS", "register_envs"]

_CLASSIFICATION = "ram_env.classification:GlimpseClassificationEnv"
_CLASSIFICATION_VEC = "ram_env.classification:GlimpseClassificationVectorEnv"

#: env id -> (entry point, vector entry point, default keywords: the paper's settings)
PAPER_SETTINGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "RAM-MNIST-v0": (
        _CLASSIFICATION,
        _CLASSIFICATION_VEC,
        dict(canvas_size=28, n_distractors=0, n_glimpses=6, glimpse_size=8, n_scales=1),
    ),
    "RAM-TranslatedMNIST-v0": (
        _CLASSIFICATION,
        _CLASSIFICATION_VEC,
        dict(canvas_size=60, n_distractors=0, n_glimpses=8, glimpse_size=12, n_scales=3),
    ),
    "RAM-ClutteredMNIST-v0": (
        _CLASSIFICATION,
        _CLASSIFICATION_VEC,
        dict(canvas_size=60, n_distractors=4, n_glimpses=8, glimpse_size=12, n_scales=3),
    ),
    "RAM-ClutteredMNIST100-v0": (
        _CLASSIFICATION,
        _CLASSIFICATION_VEC,
        dict(canvas_size=100, n_distractors=8, n_glimpses=8, glimpse_size=12, n_scales=4),
    ),
    "RAM-Catch-v0": (
        "ram_env.catch:CatchEnv",
        "ram_env.catch:CatchVectorEnv",
        dict(screen_size=24, paddle_width=2, glimpse_size=6, n_scales=3),
    ),
}

#: ids for your own images (they need keywords: images and labels, or data)
IMAGE_ENV_IDS: dict[str, tuple[str, str]] = {
    "RAM-Glimpse-v0": ("ram_env.images:GlimpseImagesEnv", "ram_env.images:GlimpseImagesVectorEnv"),
}
ENV_IDS: tuple[str, ...] = (*PAPER_SETTINGS, *IMAGE_ENV_IDS)


def register_envs() -> None:
    """Register every id (idempotent)."""
    for env_id, (entry, vector_entry, kwargs) in PAPER_SETTINGS.items():
        if env_id in gym.registry:
            continue
        gym.register(id=env_id, entry_point=entry, vector_entry_point=vector_entry, kwargs=dict(kwargs))
    for env_id, (entry, vector_entry) in IMAGE_ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry, vector_entry_point=vector_entry)
