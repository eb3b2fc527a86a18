"""What a Catch agent's core state knows: a linear probe of the game's true state from ``h_t``.

Plays ``--games`` seeded games of RAM-Catch-v0 with a RAM checkpoint (deterministic policy),
records the core state ``h_t`` after each glimpse beside the true state ``info["state"]`` the
move is chosen in (ball row, column and velocity, paddle column, ball-paddle offset), fits a
least-squares linear read-out on half of the games and prints its R^2 on the other half, per
state variable.  An agent trained from the reward alone never sees the state; the probe only
asks how much of it the glimpses it took have told its core (R^2 near 1: the core knows it).

    python benchmarks/catch_probe.py runs/ram-catch-rl/model.pt
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import torch

import ram_env  # noqa: F401  (registers the ids)
from agents.ram import RAM
from agents.ram.rollout import where_of

STATE_NAMES = ("ball row", "ball column", "ball velocity", "paddle column", "ball - paddle")


def core_states(agent: RAM, games: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(h (S, hidden), true state (S, 5), game index (S,))`` over every step of ``games`` games."""
    envs = gym.make_vec("RAM-Catch-v0", num_envs=games, **agent.env_kwargs)
    obs, info = envs.reset(seed=seed)
    state = agent.policy.initial_state(games)
    alive = np.ones(games, dtype=bool)
    hs, truths, ids = [], [], []
    with torch.no_grad():
        while alive.any():
            glimpse, where = torch.as_tensor(obs["glimpse"]), torch.as_tensor(where_of(obs))
            out = agent.policy(glimpse, where, state, deterministic=True)
            state = out.state
            hs.append(out.hidden.numpy()[alive])
            truths.append(np.asarray(info["state"])[alive])
            ids.append(np.flatnonzero(alive))
            action = {"location": out.location.numpy().astype(np.float32), "move": out.action.numpy()}
            obs, _, terminated, truncated, info = envs.step(action)
            alive &= ~(terminated | truncated)
    envs.close()
    return np.concatenate(hs), np.concatenate(truths), np.concatenate(ids)


def probe_r2(h: np.ndarray, truth: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """R^2 per state variable of a linear read-out fitted on the even games, scored on the odd."""
    x = np.concatenate([h, np.ones((len(h), 1))], axis=1)
    fit, held = ids % 2 == 0, ids % 2 == 1
    weights, *_ = np.linalg.lstsq(x[fit], truth[fit], rcond=None)
    residual = truth[held] - x[held] @ weights
    return 1 - residual.var(0) / truth[held].var(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a RAM checkpoint trained on RAM-Catch-v0")
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    agent = RAM.load(args.checkpoint, env_id="RAM-Catch-v0")
    r2 = probe_r2(*core_states(agent, args.games, args.seed))
    print(" | ".join(f"{name}: R^2 {value:.3f}" for name, value in zip(STATE_NAMES, r2, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
