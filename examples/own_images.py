"""Train the RAM on your own images: glimpse classification of any image set.

By default the set is scikit-learn's bundled handwritten digits (1,797 images of 8x8,
offline), upscaled to 24x24 and translated on a 40x40 canvas; ``--data`` takes your own
``.npz`` (``images``/``labels``, or ``train_images``/``test_images``/...) or a folder with
one sub-folder of PNGs per class.  The images are saved to a file so the checkpoint
records a path, not the pixels.

    python examples/own_images.py [--steps 1500000] [--data my_images.npz] [--out runs/own-images]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np

import ram_env
from agents.evaluation import evaluate
from agents.ram import RAM, RAMConfig


def digits_npz(path: Path) -> Path:
    """scikit-learn's 8x8 digits, upscaled x3 to 24x24 uint8, shuffled, 80% train / 20% test."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise SystemExit("the default image set needs scikit-learn (pip install scikit-learn), or pass --data") from err
    digits = load_digits()
    images = (digits.images / 16.0 * 255).astype(np.uint8).repeat(3, axis=1).repeat(3, axis=2)
    order = np.random.default_rng(0).permutation(len(images))
    images, labels = images[order], digits.target[order]
    cut = int(0.8 * len(images))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path, train_images=images[:cut], train_labels=labels[:cut], test_images=images[cut:], test_labels=labels[cut:]
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="an .npz or a folder of class folders")
    parser.add_argument("--steps", type=int, default=1_500_000, help="training env steps")
    parser.add_argument("--out", type=Path, default=Path("runs/own-images"))
    args = parser.parse_args()
    data = args.data or digits_npz(args.out / "digits.npz")
    env_kwargs = {
        "data": str(Path(data).resolve()),
        "canvas_size": 40,
        "n_glimpses": 6,
        "glimpse_size": 8,
        "n_scales": 2,
    }
    probe = gym.make("RAM-Glimpse-v0", **env_kwargs)
    print(f"{data}: glimpses {probe.observation_space['glimpse'].shape}, {probe.action_space['label'].n} classes")
    agent = RAM("RAM-Glimpse-v0", RAMConfig(num_envs=128, env_kwargs=env_kwargs), seed=0).learn(args.steps)
    result = evaluate(agent)  # the whole test split, deterministic fixations, one sample
    print(result.summary())
    path = agent.save(args.out / "model.pt")
    print(f"saved {path}; the RAM looked at test image 0 at", _fixations(agent, env_kwargs))


def _fixations(agent: RAM, env_kwargs: dict) -> str:
    env = gym.make("RAM-Glimpse-v0", split="test", **env_kwargs)
    obs, _ = env.reset(seed=0)
    state, done, points = None, False, []
    while not done:
        points.append(obs["location"])
        action, state = agent.predict(obs, state)
        obs, _, done, _, _ = env.step(action)
    assert ram_env.task_kind(env) == "classification"
    return ", ".join(f"({r:+.2f}, {c:+.2f})" for r, c in np.asarray(points, dtype=float))


if __name__ == "__main__":
    main()
