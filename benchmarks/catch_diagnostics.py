"""Diagnostics behind the "Known gap: RAM on Catch" notes in benchmarks/RESULTS.md.

Trains the RAM on RAM-Catch-v0 with the given hyper-parameters and prints, every 20
updates, the mean training catch rate, the move policy's entropy and the mean |fixation|,
and at the end the deterministic policy's catch rate over 1,000 seeded games.
``--noise`` replaces each episode's reward by a coin flip (p = 0.08, independent of the
actions): a policy whose entropy still collapses is driven by optimisation noise.

    python benchmarks/catch_diagnostics.py --updates 120 --noise \
        --hparams '{"num_envs": 64, "location_mean": "linear", "location_std": 0.02,
                    "learning_rate": 3e-4, "gamma": 0.99, "gae_lambda": 0.95,
                    "normalize_advantage": true, "entropy_coef": 0.5, "baseline_grad_to_core": true}' \
        --env-kwargs '{"glimpse_size": 24, "n_scales": 1, "initial_location": "center"}'

(RESULTS.md's PPO-style probes also set ``update_epochs`` and ``minibatches``; that mode
was removed in the architecture refactor, so those rows cannot be re-run with this version.)

``--config ram_catch`` starts from the shipped recipe (asymmetric
critic + state decoder) and ``--hparams`` overrides it, e.g. the ablations in RESULTS.md:

    python benchmarks/catch_diagnostics.py --updates 1000 --config ram_catch \
        --hparams '{"state_loss_weight": 0.0, "lr_schedule": "constant"}'
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from agents.evaluation import evaluate
from agents.ram import RAM
from agents.ram.recipes import resolve_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="a shipped recipe (ram_catch) or a YAML file of RAMConfig fields")
    parser.add_argument("--hparams", default="{}", help="RAMConfig fields as JSON (over --config)")
    parser.add_argument("--env-kwargs", default="{}", help="RAM-Catch-v0 keywords as JSON")
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--noise", action="store_true", help="coin-flip rewards, independent of the actions")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    hparams = resolve_config(args.config) if args.config else {}
    hparams.update(json.loads(args.hparams))
    env_kwargs = {**hparams.pop("env_kwargs", {}), **json.loads(args.env_kwargs)}  # over the recipe's
    agent = RAM("RAM-Catch-v0", seed=0, env_kwargs=env_kwargs, **hparams)
    if args.noise:
        collect, coins = agent.collect, torch.Generator().manual_seed(0)

        def noisy_collect(*a, **kw):
            rollout = collect(*a, **kw)
            rollout.reward = torch.zeros_like(rollout.reward)
            rollout.reward[-1] = (torch.rand(rollout.reward.shape[1], generator=coins) < 0.08).float()
            return rollout

        agent.collect = noisy_collect
    history: list[dict[str, float]] = []

    def report(metrics: dict[str, float]) -> bool:
        history.append(metrics)
        if metrics["update"] % 20 == 0:
            rate = np.mean([m["reward"] for m in history[-20:]])
            print(
                f"update {metrics['update']:5d}  env steps {metrics['env_steps']:9,d}  catch rate {rate:.3f}  "
                f"move entropy {metrics['entropy']:.3f}  |l| {metrics['location_abs_mean']:.2f}  "
                f"baseline MSE {metrics['baseline_mse']:.4f}  glimpse MSE {metrics['glimpse_mse']:.3f}",
                flush=True,
            )
        return metrics["update"] < args.updates

    agent.learn(10**12, callback=report, threads=args.threads)
    if not args.noise:
        print(evaluate(agent).summary())  # 1,000 seeded games, deterministic policy


if __name__ == "__main__":
    main()
