"""Train a Stable-Baselines3 baseline (or the paper's full-image CNN) and score it like the RAM.

    python examples/train_baseline.py --algo ppo --env RAM-Catch-v0 --steps 300000
    python examples/train_baseline.py --algo ppo --env RAM-Catch-v0 --full-screen
    python examples/train_baseline.py --algo cnn --env RAM-ClutteredMNIST-v0 --steps 550000

The same from the command line: `ram train --algo ppo --env RAM-Catch-v0`.
"""

import argparse

from agents.registry import ALGORITHMS, evaluate_agent, make_agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", default="ppo", choices=[a for a in ALGORITHMS if a != "ram"])
    parser.add_argument("--env", default="RAM-Catch-v0")
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--full-screen", action="store_true", help="Catch only: observe the whole screen")
    parser.add_argument("--eval-episodes", type=int, default=None)
    args = parser.parse_args()

    env_kwargs = {"obs_mode": "full"} if args.full_screen else {}
    # hyper-parameters: agents/baselines/hyperparams/<algo>.yml, overridable here as a dict
    agent = make_agent(args.algo, args.env, seed=0, env_kwargs=env_kwargs)

    def report(metrics):
        print(f"{metrics['env_steps']:9,d} steps  reward/accuracy {metrics.get('accuracy', metrics['reward']):.3f}")

    agent.learn(args.steps, callback=report)
    print(evaluate_agent(agent, n_episodes=args.eval_episodes).summary())


if __name__ == "__main__":
    main()
