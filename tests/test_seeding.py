"""The seed names the episode on the fixed splits: ``reset(seed=s)`` shows image ``s mod N``,
each plain ``reset()`` the next one; a vector env of ``n`` gives env ``i`` images ``s + i,
s + i + n, ...``.  Every image's episode (clutter, first fixation) is fixed by its index."""

import gymnasium as gym
import numpy as np
import pytest

import ram_env

SMALL = dict(n_glimpses=2, initial_location="random")


def test_the_seed_names_the_image():
    env = gym.make("RAM-ClutteredMNIST-v0", split="test", **SMALL)
    assert [env.reset(seed=i)[1]["index"] for i in range(5)] == [0, 1, 2, 3, 4]
    assert env.reset(seed=10_003)[1]["index"] == 3  # s mod N
    assert env.reset(seed=9_999)[1]["index"] == 9_999
    assert env.reset()[1]["index"] == 0  # the next index wraps around
    assert [env.reset(seed=7)[1]["index"], env.reset()[1]["index"], env.reset()[1]["index"]] == [7, 8, 9]
    # the same image gives the same episode however it is reached
    by_seed, _ = env.reset(seed=8)
    env.reset(seed=7)
    in_turn, _ = env.reset()
    by_option, _ = env.reset(seed=123, options={"index": 8})
    for obs in (in_turn, by_option):
        np.testing.assert_array_equal(obs["glimpse"], by_seed["glimpse"])
        np.testing.assert_array_equal(obs["location"], by_seed["location"])


def test_an_index_option_does_not_move_the_sequence():
    env = gym.make("RAM-MNIST-v0", split="validation", **SMALL)
    env.reset(seed=40)
    assert env.reset(options={"index": 3})[1]["index"] == 3
    assert env.reset()[1]["index"] == 41


def test_unseeded_resets_start_at_image_zero():
    env = gym.make("RAM-MNIST-v0", split="validation", **SMALL)
    assert [env.reset()[1]["index"] for _ in range(3)] == [0, 1, 2]


@pytest.mark.parametrize("split", ["validation", "test"])
def test_both_loops_visit_the_whole_split_once(split):
    env = gym.make("RAM-MNIST-v0", split=split, **SMALL)
    n = len(ram_env.image_dataset(env))
    assert sorted(env.reset(seed=i)[1]["index"] for i in range(n)) == list(range(n))
    seen = [env.reset(seed=0)[1]["index"]] + [env.reset()[1]["index"] for _ in range(n - 1)]
    assert seen == list(range(n))


def play_vector(vec, n_episodes, seed):
    """``info["index"]`` of the first ``n_episodes`` episodes of each env, in start order."""
    n = vec.num_envs
    actions = {"location": np.zeros((n, 2), np.float32), "label": np.zeros(n, np.int64)}
    obs, info = vec.reset(seed=seed)
    started = [[int(k)] for k in info["index"]]
    firsts = {i: (obs["glimpse"][i].copy(), obs["location"][i].copy()) for i in range(n)}
    while sum(map(len, started)) < n_episodes:
        obs, _, terminated, _, info = vec.step(actions)
        if terminated.any():  # next-step autoreset: the next step starts the new episodes
            obs, _, _, _, info = vec.step(actions)
            for i in np.flatnonzero(terminated):
                started[i].append(int(info["index"][i]))
    return started, firsts


def test_vector_env_i_plays_images_s_plus_i_then_every_nth():
    n, seed = 4, 9_998
    vec = gym.make_vec("RAM-ClutteredMNIST-v0", num_envs=n, split="test", **SMALL)
    started, firsts = play_vector(vec, 3 * n, seed)
    for i in range(n):
        assert started[i][:3] == [(seed + i + k * n) % 10_000 for k in range(3)]
    # env i's first episode is the one a single env seeded s + i plays
    single = gym.make("RAM-ClutteredMNIST-v0", split="test", **SMALL)
    for i in range(n):
        obs, info = single.reset(seed=seed + i)
        assert info["index"] == (seed + i) % 10_000
        np.testing.assert_array_equal(obs["glimpse"], firsts[i][0])
        np.testing.assert_array_equal(obs["location"], firsts[i][1])


def test_vector_env_covers_the_split_once_from_any_seed():
    n = 7  # does not divide 5,000
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=n, split="validation", **SMALL)
    started, _ = play_vector(vec, 5_000 + n, seed=123)
    rounds = min(map(len, started))  # every env starts its k-th episode in the same step
    first = [started[i][k] for k in range(rounds) for i in range(n)][:5_000]
    assert sorted(first) == list(range(5_000))


def test_vector_seeds_of_a_list_name_each_envs_first_image():
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=3, split="test", **SMALL)
    vec.reset(seed=100)
    _, info = vec.reset(seed=[5, None, 40])
    assert info["index"].tolist() == [5, 104, 40]  # env 1, not re-seeded, goes on from 101 by 3


def test_rollouts_per_image_groups_take_the_place_of_envs():
    """With ``rollouts_per_image=M`` the ``n / M`` groups play the roles of envs: group ``j``
    shows image ``s + j``, then ``s + j + n / M``, ..."""
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=6, rollouts_per_image=3, split="test", **SMALL)
    started, _ = play_vector(vec, 3 * 6, seed=50)
    assert [s[:3] for s in started] == [[50, 52, 54]] * 3 + [[51, 53, 55]] * 3


def test_the_training_split_draws_fresh_images_from_the_seeded_generators():
    env = gym.make("RAM-MNIST-v0", **SMALL)
    a = [env.reset(seed=3)[1]["index"], env.reset()[1]["index"], env.reset()[1]["index"]]
    b = [env.reset(seed=3)[1]["index"], env.reset()[1]["index"], env.reset()[1]["index"]]
    assert a == b and a != [3, 4, 5]
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=6, rollouts_per_image=3, **SMALL)
    _, info = vec.reset(seed=3)
    again = gym.make_vec("RAM-MNIST-v0", num_envs=6, rollouts_per_image=3, **SMALL).reset(seed=3)[1]
    assert info["index"].tolist() == again["index"].tolist()
    assert len(set(info["index"][:3].tolist())) == 1 and len(set(info["index"][3:].tolist())) == 1
