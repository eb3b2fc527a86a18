"""Fine-tune a shipped model: start a new RAM from its weights and train on.

    python examples/fine_tune.py [--env RAM-MNIST-v0] [--steps 300000] [--learning-rate 2e-4]

The new agent takes the shipped model's settings (``RAMConfig``) with a new learning rate
and a warm-up, copies its weights (:meth:`RAM.init_weights`), and trains with a fresh
optimizer and schedule; the script scores it on the validation split before and after.
The same from the command line, recorded so that the run's history counts the shipped
model's training too:

    ram train --env RAM-MNIST-v0 --init-from RAM-MNIST-v0 --set learning_rate=2e-4 \\
        --set lr_warmup_steps=300000 --steps 3000000 --out runs/mnist-fine-tuned
"""

import argparse
import dataclasses

from agents.evaluation import evaluate
from agents.ram import RAM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="RAM-MNIST-v0", help="a task with a shipped model (see `ram envs`)")
    parser.add_argument("--steps", type=int, default=300_000, help="env steps of fine-tuning")
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--eval-episodes", type=int, default=2000, help="validation images scored before and after")
    args = parser.parse_args()

    shipped = RAM.load_pretrained(args.env)
    settings = dataclasses.asdict(shipped.config)
    settings.update(learning_rate=args.learning_rate, lr_warmup_steps=args.steps // 4)
    agent = RAM(args.env, seed=1, **settings)
    agent.init_weights(shipped)  # the optimizer, schedule and step count start afresh

    before = evaluate(agent, n_episodes=args.eval_episodes, split="validation")
    print(f"before: {before.summary()}")
    agent.learn(total_timesteps=args.steps)
    after = evaluate(agent, n_episodes=args.eval_episodes, split="validation")
    print(f"after {agent.num_timesteps:,} env steps at learning rate {args.learning_rate:g}: {after.summary()}")


if __name__ == "__main__":
    main()
