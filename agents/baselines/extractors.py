"""Feature extractors for Stable-Baselines3 policies on ram-gym observations.

* :class:`GlimpseExtractor` - the paper's glimpse network on ``Dict(glimpse, location)``:
  ``h_g = ReLU(Linear(glimpse))``, ``h_l = ReLU(Linear(location))``,
  ``g = ReLU(Linear(h_g) + Linear(h_l))``, where ``l`` is the location and, when the env
  has a zoom (``zoom=(a, b)``), the glimpse's zoom after it.  (SB3's NatureCNN needs
  images of 36x36 or more; a 6x6 or 12x12 glimpse is not one.)
* :class:`HistoryExtractor` - the same glimpse network applied to each of the last k
  glimpses (``ram_env.wrappers.GlimpseHistory``), the k features masked by ``valid`` and
  concatenated, then one linear layer: a memoryless policy that sees what it saw before.
* :class:`SmallScreenCNN` - two conv layers for small full screens (Catch's 24x24).
"""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

__all__ = ["GlimpseExtractor", "HistoryExtractor", "SmallScreenCNN"]


def where_of(observations: dict[str, torch.Tensor]) -> torch.Tensor:
    """The "where" input: ``location`` ``(..., 2)``, with ``zoom`` ``(..., 1)`` after it if present."""
    location = observations["location"]
    return torch.cat([location, observations["zoom"]], -1) if "zoom" in observations else location


def where_size(observation_space: gym.spaces.Dict) -> int:
    """Size of the "where" input of :func:`where_of`: 2, or 3 with a zoom."""
    return 3 if "zoom" in observation_space.spaces else 2


class GlimpseExtractor(BaseFeaturesExtractor):
    """``{"glimpse": (B, k, g, g), "location": (B, 2)[, "zoom": (B, 1)]}`` -> ``(B, features_dim)``."""

    def __init__(self, observation_space: gym.spaces.Dict, features_dim: int = 256, hidden: int = 128) -> None:
        super().__init__(observation_space, features_dim)
        n_in = int(torch.tensor(observation_space["glimpse"].shape).prod())
        self.what = nn.Linear(n_in, hidden)
        self.where = nn.Linear(where_size(observation_space), hidden)
        self.what_out = nn.Linear(hidden, features_dim)
        self.where_out = nn.Linear(hidden, features_dim)

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        h_g = torch.relu(self.what(observations["glimpse"].flatten(1)))
        h_l = torch.relu(self.where(where_of(observations)))
        return torch.relu(self.what_out(h_g) + self.where_out(h_l))


class HistoryExtractor(BaseFeaturesExtractor):
    """``{"glimpse": (B, k, ...), "location": (B, k, 2), "valid": (B, k)}`` -> ``(B, features_dim)``."""

    def __init__(self, observation_space: gym.spaces.Dict, features_dim: int = 256, hidden: int = 128) -> None:
        super().__init__(observation_space, features_dim)
        shape: tuple[int, ...] = tuple(observation_space["glimpse"].shape or ())
        self.k = int(shape[0])
        n_in = int(torch.tensor(shape[1:]).prod())
        self.what = nn.Linear(n_in, hidden)
        self.where = nn.Linear(where_size(observation_space), hidden)
        self.what_out = nn.Linear(hidden, hidden)
        self.where_out = nn.Linear(hidden, hidden)
        self.combine = nn.Sequential(nn.Linear(self.k * hidden, features_dim), nn.ReLU())

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        glimpse, valid = observations["glimpse"], observations["valid"]
        where = where_of(observations)
        b = glimpse.shape[0]
        h_g = torch.relu(self.what(glimpse.reshape(b * self.k, -1)))
        h_l = torch.relu(self.where(where.reshape(b * self.k, where.shape[-1])))
        g = torch.relu(self.what_out(h_g) + self.where_out(h_l)).reshape(b, self.k, -1)
        return self.combine((g * valid.unsqueeze(-1)).flatten(1))


class SmallScreenCNN(BaseFeaturesExtractor):
    """Channels-first ``(B, C, H, W)`` images (SB3 scales uint8 to [0, 1]) -> ``(B, features_dim)``."""

    def __init__(self, observation_space: gym.spaces.Box, features_dim: int = 256) -> None:
        super().__init__(observation_space, features_dim)
        channels = observation_space.shape[0]
        self.cnn = nn.Sequential(
            nn.Conv2d(channels, 16, 3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n_flat = self.cnn(torch.zeros(1, *observation_space.shape)).shape[1]
        self.linear = nn.Sequential(nn.Linear(n_flat, features_dim), nn.ReLU())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.linear(self.cnn(observations))
