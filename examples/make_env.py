"""Make a glimpse environment, step it with a random policy, and save what it looks like.

python examples/make_env.py [--env RAM-ClutteredMNIST-v0] [--episodes 200] [--out glimpses.png]
"""

import argparse

import gymnasium as gym
import numpy as np

import ram_env  # noqa: F401  (registers the RAM-* ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="RAM-ClutteredMNIST-v0")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--out", default=None, help="save a rendered frame to this PNG (needs pillow)")
    args = parser.parse_args()

    env = gym.make(args.env, render_mode="rgb_array")
    print(env.spec.id, "observation:", env.observation_space)
    print(env.spec.id, "action:     ", env.action_space)

    # one episode by hand: look at the centre, then at four corners, then guess
    obs, info = env.reset(seed=0, options={"initial_location": "center"})
    corners = [(-0.5, -0.5), (-0.5, 0.5), (0.5, -0.5), (0.5, 0.5)]
    terminated, t = False, 0
    while not terminated:
        location = np.array(corners[t % 4], dtype=np.float32)
        obs, reward, terminated, truncated, info = env.step({"location": location, "label": 3})
        t += 1
    print(f"one episode: {t} steps, true label {info['label']}, guessed 3, reward {reward}")
    frame = env.render()
    if args.out:
        from PIL import Image

        Image.fromarray(frame).save(args.out)
        print("saved", args.out, frame.shape)

    # many episodes at once with the native vector env and a random policy
    n = 64
    envs = gym.make_vec(args.env, num_envs=n)
    envs.reset(seed=0)
    rewards, episodes = [], 0
    while episodes < args.episodes:
        _, reward, terminated, _, _ = envs.step(envs.action_space.sample())
        rewards.extend(reward[terminated].tolist())
        episodes += int(terminated.sum())
    print(f"random policy: accuracy {np.mean(rewards):.3f} over {episodes} episodes (chance is 0.1)")


if __name__ == "__main__":
    main()
