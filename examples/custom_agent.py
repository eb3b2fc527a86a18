"""Benchmark your own algorithm next to the built-ins, without editing ram-gym.

`GlimpseReinforce` below is a compact agent written as a user would: a GRU over glimpse
features, a Gaussian fixation policy and a softmax label policy, trained by REINFORCE with
a learned value baseline from the **reward alone** (the *rl* track: it never reads
``info["label"]``).  Anything with this surface (see ``agents/base.py``) plugs in:

    ram train --algo custom_agent:GlimpseReinforce --env RAM-MNIST-v0     # with PYTHONPATH=examples
    ram bench my_sweep.yaml            # algos: [ram, ppo, custom_agent:GlimpseReinforce]

Run as a script it writes such a sweep and runs it with ``ram bench``:

    python examples/custom_agent.py [--steps 200000] [--out runs/bench-custom]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical, Normal

import ram_env  # noqa: F401  (registers the RAM-* ids)


class GlimpseReinforce(nn.Module):
    """Recurrent REINFORCE on the glimpse env, from the reward alone (a user's own agent)."""

    algo = "custom_agent:GlimpseReinforce"
    track = "rl"
    default_steps = 500_000

    def __init__(self, env_id, seed=0, env_kwargs=None, num_envs=64, hidden=128, lr=1e-3, location_std=0.15):
        super().__init__()
        self.env_id, self.seed, self.env_kwargs = env_id, 0 if seed is None else int(seed), dict(env_kwargs or {})
        self.hparams = dict(num_envs=num_envs, hidden=hidden, lr=lr, location_std=location_std)
        probe = gym.make(env_id, **self.env_kwargs)
        self.key = next(k for k in probe.action_space.spaces if k != "location")
        n_in = int(np.prod(probe.observation_space["glimpse"].shape)) + 2
        torch.manual_seed(self.seed)
        self.encode = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU())
        self.core = nn.GRUCell(hidden, hidden)
        self.where = nn.Linear(hidden, 2)
        self.what = nn.Linear(hidden, int(probe.action_space[self.key].n))
        self.value = nn.Linear(hidden, 1)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)
        self.num_timesteps = 0

    def step(self, obs, h, deterministic=False):
        x = torch.cat([torch.as_tensor(obs["glimpse"]).flatten(1), torch.as_tensor(obs["location"])], 1)
        h = self.core(self.encode(x), h)
        where = Normal(torch.tanh(self.where(h.detach())), self.hparams["location_std"])
        what = Categorical(logits=self.what(h))
        loc = where.mean if deterministic else where.sample()
        act = what.probs.argmax(-1) if deterministic else what.sample()
        return h, loc, act, where.log_prob(loc).sum(-1) + what.log_prob(act), self.value(h).squeeze(-1)

    def learn(self, total_timesteps, callback=None, reset_num_timesteps=True):
        n = self.hparams["num_envs"]
        envs = gym.make_vec(self.env_id, num_envs=n, **self.env_kwargs)
        first = True
        while self.num_timesteps < total_timesteps:
            obs, _ = envs.reset(seed=self.seed if first else None)
            first, h, alive = False, torch.zeros(n, self.hparams["hidden"]), torch.ones(n)
            log_probs, values, rewards, masks = [], [], [], []
            while alive.any():
                h, loc, act, log_prob, value = self.step(obs, h)
                obs, reward, terminated, truncated, _ = envs.step(
                    {"location": loc.detach().numpy().astype(np.float32), self.key: act.numpy()}
                )
                log_probs.append(log_prob), values.append(value), masks.append(alive)
                rewards.append(torch.as_tensor(reward, dtype=torch.float32) * alive)
                alive = alive * torch.as_tensor(~(terminated | truncated), dtype=torch.float32)
            returns = torch.stack(rewards).flip(0).cumsum(0).flip(0)  # undiscounted rewards to go
            mask, values = torch.stack(masks), torch.stack(values)
            advantage = (returns - values).detach()
            loss = (-(torch.stack(log_probs) * advantage) + (returns - values) ** 2) * mask
            self.optimizer.zero_grad()
            (loss.sum() / n).backward()
            nn.utils.clip_grad_norm_(self.parameters(), 5.0)
            self.optimizer.step()
            self.num_timesteps += int(mask.sum())
            metrics = {"env_steps": self.num_timesteps, "reward": float(torch.stack(rewards).sum(0).mean())}
            if callback is not None and callback(metrics) is False:
                break
        return self

    @torch.no_grad()
    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        single = np.ndim(observation["location"]) == 1
        obs = {
            k: np.asarray(v, np.float32)[None] if single else np.asarray(v, np.float32) for k, v in observation.items()
        }
        n = len(obs["location"])
        h = torch.zeros(n, self.hparams["hidden"]) if state is None else torch.as_tensor(state)
        if episode_start is not None:
            h = h * torch.as_tensor(~np.asarray(episode_start, bool), dtype=torch.float32)[:, None]
        h, loc, act, _, _ = self.step(obs, h, deterministic)
        loc = np.clip(loc.numpy(), -1, 1).astype(np.float32)
        if single:
            return {"location": loc[0], self.key: int(act[0])}, h.numpy()
        return {"location": loc, self.key: act.numpy()}, h.numpy()

    def save(self, path, extra=None):
        payload = {"env_id": self.env_id, "seed": self.seed, "env_kwargs": self.env_kwargs,
                   "hparams": self.hparams, "steps": self.num_timesteps, "model": self.state_dict()}  # fmt: skip
        torch.save(payload, path)
        return Path(path)

    @classmethod
    def load(cls, path, env_id=None):
        data = torch.load(path, weights_only=True)  # plain data: nothing in the file runs
        if env_id is not None and data["env_id"] != env_id:
            raise ValueError(f"{path} was trained on {data['env_id']}, not {env_id}")
        agent = cls(data["env_id"], data["seed"], data["env_kwargs"], **data["hparams"])
        agent.load_state_dict(data["model"])
        agent.num_timesteps = data["steps"]
        return agent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000, help="env steps per run (the same for every algorithm)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-custom"))
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)  # so `custom_agent:GlimpseReinforce` imports, in workers too
    os.environ["PYTHONPATH"] = os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])
    args.out.mkdir(parents=True, exist_ok=True)
    sweep = args.out / "sweep.yaml"
    sweep.write_text(
        "name: custom\nalgos: [ram, ppo, custom_agent:GlimpseReinforce]\nenvs: [RAM-MNIST-v0]\n"
        f"seeds: {list(args.seeds)}\nsteps: {args.steps}\neval_episodes: 500\n"
    )
    from agents import cli

    return cli.main(["bench", str(sweep), "--out", str(args.out)])


if __name__ == "__main__":
    sys.exit(main())
