"""Train the Recurrent Attention Model on a glimpse task and score it on the fixed test split.

    python examples/train_ram.py [--env RAM-MNIST-v0] [--steps 3000000]

About 1 minute per million env steps on 2 CPU cores (an RAM-MNIST-v0 episode is 6 steps).
The same from the command line: `ram train --env RAM-MNIST-v0 --steps 3000000`.
"""

import argparse

import gymnasium as gym
import numpy as np

from agents.evaluation import evaluate
from agents.ram import RAM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="RAM-MNIST-v0")
    parser.add_argument("--steps", type=int, default=3_000_000)
    parser.add_argument("--eval-episodes", type=int, default=None, help="default: the whole test split")
    args = parser.parse_args()

    agent = RAM(args.env, seed=0, num_envs=128)  # hyper-parameters: see agents.ram.RAMConfig

    def report(metrics):
        if metrics["update"] % 100 == 0:
            print(
                f"update {metrics['update']:5d}  env steps {metrics['env_steps']:9,d}  "
                f"batch accuracy {metrics.get('accuracy', metrics['reward']):.3f}"
            )

    agent.learn(total_timesteps=args.steps, callback=report)
    print(evaluate(agent, n_episodes=args.eval_episodes).summary())

    # acting with the SB3-style surface: one test episode, step by step
    env = gym.make(args.env, split="test")
    obs, info = env.reset(seed=0)
    state, done = None, False
    path = [obs["location"]]
    while not done:
        action, state = agent.predict(obs, state)
        obs, reward, done, _, info = env.step(action)
        path.append(obs["location"])
    print(
        f"test image {info['index']}: true {info['label']}, said {action['label']}, "
        f"fixations {np.round(np.array(path[:-1]), 2).tolist()}"
    )


if __name__ == "__main__":
    main()
