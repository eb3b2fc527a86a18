"""Catch: rules, vectorisation, scripted policies, bad input, and the human player."""

import gymnasium as gym
import numpy as np
import pygame
import pytest
from gymnasium.utils.env_checker import check_env

import ram_env
from ram_env import InvalidAction
from ram_env.catch import LEFT, RIGHT, STAY
from ram_env.play import CatchGame


def act(move=STAY, location=(0.0, 0.0)):
    return {"location": np.asarray(location, dtype=np.float32), "move": move}


def track_ball(task) -> np.ndarray:
    """Scripted policy: move the paddle toward the column the ball will be in after this step."""
    last = task.screen_size - 1
    x = task.ball_x + task.ball_vx
    x = np.where(x < 0, -x, np.where(x > last, 2 * last - x, x))
    col = np.floor(x + 0.5)
    left, right = task.paddle, task.paddle + task.paddle_width - 1
    return np.where(col < left, LEFT, np.where(col > right, RIGHT, STAY))


@pytest.mark.parametrize("obs_mode", ["glimpse", "full"])
@pytest.mark.parametrize("render_mode", [None, "rgb_array"])
def test_gymnasium_check_env(obs_mode, render_mode):
    env = gym.make("RAM-Catch-v0", obs_mode=obs_mode, render_mode=render_mode)
    check_env(env.unwrapped, skip_render_check=render_mode is None)


def test_spaces():
    env = gym.make("RAM-Catch-v0")
    assert env.observation_space["glimpse"].shape == (3, 6, 6)
    assert env.action_space["move"].n == 3
    full = gym.make("RAM-Catch-v0", obs_mode="full")
    assert full.observation_space == gym.spaces.Box(0, 255, (24, 24, 1), np.uint8)
    assert full.action_space == gym.spaces.Discrete(3)


def test_episode_start_length_and_reward_only_at_the_end():
    env = gym.make("RAM-Catch-v0", obs_mode="full")
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        screen = obs[..., 0]
        assert screen[0].sum() == 255 and screen[1:-1].sum() == 0  # ball in the top row
        assert screen[-1].sum() == 2 * 255  # 2-pixel paddle on the bottom row
        steps, terminated = 0, False
        while not terminated:
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            steps += 1
            assert not truncated and (reward == 0.0 or terminated)
            ball_rows = np.flatnonzero(obs[:-1, :, 0].any(1))
            if not terminated:
                assert list(ball_rows) == [steps]  # falls one row per step
        assert steps == 23


def test_info_state_is_the_true_game_state():
    env = gym.make("RAM-Catch-v0", screen_size=12)
    _, info = env.reset(seed=4)
    task = ram_env.glimpse_task(env)
    for _ in range(11):
        state = info["state"]
        assert state.shape == (5,) and state.dtype == np.float32
        ball, paddle = task.ball_x[0], task.paddle[0]
        want = [task.ball_row[0] / 11, ball / 11, task.ball_vx[0], paddle / 11, (ball - paddle - 0.5) / 11]
        np.testing.assert_allclose(state, want, rtol=1e-6)
        _, _, terminated, _, info = env.step(act(RIGHT))
    assert terminated and info["state"][0] == 1.0  # the ball is on the bottom row
    vec = gym.make_vec("RAM-Catch-v0", num_envs=3, screen_size=12)
    _, vinfo = vec.reset(seed=4)
    assert vinfo["state"].shape == (3, 5)
    np.testing.assert_allclose(vinfo["state"][0], env.reset(seed=4)[1]["state"])


def test_ball_bounces_off_walls_and_moves_by_its_angle():
    env = ram_env.CatchEnv(obs_mode="full")
    env.reset(seed=0)
    task = env.task
    task.ball_x[0], task.ball_vx[0] = 1.0, -1.0
    env.step(STAY)
    assert task.ball_x[0] == 0.0
    env.step(STAY)
    assert task.ball_x[0] == 1.0 and task.ball_vx[0] == 1.0  # bounced off the left wall
    task.ball_x[0], task.ball_vx[0] = 22.0, 0.75
    env.step(STAY)
    assert task.ball_x[0] == pytest.approx(22.75) and task.ball_col[0] == 23
    env.step(STAY)
    assert task.ball_x[0] == pytest.approx(22.5) and task.ball_vx[0] == -0.75  # right wall


def test_catch_and_miss():
    env = ram_env.CatchEnv(obs_mode="full")
    for offset, expected in [(0, 1.0), (-1, 1.0), (1, 0.0), (-2, 0.0)]:
        env.reset(seed=1)
        task = env.task
        task.ball_vx[0] = 0.0
        col = int(task.ball_col[0])
        # put the paddle so its left end is at col + offset, then wait for the ball
        task.paddle[0] = np.clip(col + offset, 0, 22)
        terminated = False
        while not terminated:
            _, reward, terminated, _, _ = env.step(STAY)
        covered = task.paddle[0] <= col <= task.paddle[0] + 1
        assert reward == float(covered)
        if 0 <= col + offset <= 22:
            assert reward == expected


def test_paddle_moves_one_pixel_and_stops_at_walls():
    env = ram_env.CatchEnv(obs_mode="full")
    env.reset(seed=2)
    task = env.task
    task.paddle[0] = 1
    env.step(LEFT)
    assert task.paddle[0] == 0
    env.step(LEFT)
    assert task.paddle[0] == 0
    env.step(RIGHT)
    assert task.paddle[0] == 1
    task.paddle[0] = 22
    env.step(RIGHT)
    assert task.paddle[0] == 22


def test_keywords_change_the_game():
    env = ram_env.CatchEnv(obs_mode="full", screen_size=16, paddle_width=4, ball_speed=3)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (16, 16, 1) and obs[-1, :, 0].sum() == 4 * 255
    steps, terminated = 0, False
    while not terminated:
        obs, _, terminated, _, _ = env.step(STAY)
        steps += 1
    assert steps == 5  # ceil(15 / 3)


def test_scripted_tracker_catches_every_ball_and_random_far_fewer():
    n = 1000
    vec = gym.make_vec("RAM-Catch-v0", num_envs=n, obs_mode="full")
    task = ram_env.glimpse_task(vec)
    vec.reset(seed=0)
    rewards = np.zeros(n)
    for _ in range(23):
        _, reward, terminated, _, _ = vec.step(track_ball(task))
        rewards += reward
    assert terminated.all() and rewards.mean() == 1.0
    vec.reset(seed=0)
    rng = np.random.default_rng(0)
    random_rewards = np.zeros(n)
    for _ in range(23):
        _, reward, _, _, _ = vec.step(rng.integers(0, 3, n))
        random_rewards += reward
    assert random_rewards.mean() < 0.3


@pytest.mark.parametrize("obs_mode", ["glimpse", "full"])
def test_vector_env_equals_single_envs(obs_mode):
    n, seed = 3, 11
    vec = gym.make_vec("RAM-Catch-v0", num_envs=n, obs_mode=obs_mode)
    singles = [gym.make("RAM-Catch-v0", obs_mode=obs_mode) for _ in range(n)]
    obs_v, _ = vec.reset(seed=seed)
    obs_s = [s.reset(seed=seed + i)[0] for i, s in enumerate(singles)]
    done = [False] * n
    rng = np.random.default_rng(1)

    def same(batch, i, single):
        if obs_mode == "full":
            np.testing.assert_array_equal(batch[i], single)
        else:
            for key in single:
                np.testing.assert_array_equal(batch[key][i], single[key])

    for _ in range(50):  # crosses two autoresets
        for i in range(n):
            same(obs_v, i, obs_s[i])
        moves = rng.integers(0, 3, n)
        locations = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        actions = moves if obs_mode == "full" else {"location": locations, "move": moves}
        obs_v, rew_v, term_v, _, _ = vec.step(actions)
        for i, env in enumerate(singles):
            if done[i]:
                obs_s[i], _ = env.reset()
                reward, terminated = 0.0, False
            else:
                a = int(moves[i]) if obs_mode == "full" else {"location": locations[i], "move": int(moves[i])}
                obs_s[i], reward, terminated, _, _ = env.step(a)
            done[i] = terminated
            assert rew_v[i] == reward and term_v[i] == terminated


def test_glimpse_sees_the_ball():
    env = ram_env.CatchEnv()
    env.reset(seed=4)
    task = env.task
    task.ball_vx[0] = 0.0
    env.step(act(STAY, (0.0, 0.0)))
    row, col = int(task.ball_row[0]), int(task.ball_col[0])
    at_ball = np.array([(row + 0.5) / 24 * 2 - 1, (col + 0.5) / 24 * 2 - 1])
    obs, *_ = env.step(act(STAY, at_ball))
    assert obs["glimpse"][0].max() == 1.0  # the finest patch holds the ball pixel at full intensity


@pytest.mark.parametrize(
    "action, message",
    [
        (act(3), r"\[0, 3\)"),
        (act(-1), r"\[0, 3\)"),
        (act(1.5), "move"),
        (act(STAY, (np.nan, 0.0)), "finite"),
        ({"location": np.zeros(2), "label": 1}, "keys"),
    ],
)
def test_bad_actions(action, message):
    env = ram_env.CatchEnv()
    env.reset(seed=0)
    with pytest.raises(InvalidAction, match=message):
        env.step(action)


def test_bad_full_mode_actions_and_order():
    env = ram_env.CatchEnv(obs_mode="full")
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(STAY)
    env.reset(seed=0)
    for bad in (3, -1, np.array([1, 1]), 1.0):
        with pytest.raises(InvalidAction, match="0 left, 1 stay, 2 right"):
            env.step(bad)
    while not env.step(STAY)[2]:
        pass
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step(STAY)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(obs_mode="pixels"), "obs_mode"),
        (dict(paddle_width=30), "paddle_width"),
        (dict(ball_speed=0), "ball_speed"),
        (dict(max_angle=95), "max_angle"),
        (dict(screen_size=2), "screen_size"),
        (dict(glimpse_size=30), "glimpse_size"),
        (dict(paddle=3), "paddle"),
    ],
)
def test_bad_keywords(kwargs, name):
    with pytest.raises(ValueError, match=name):
        gym.make("RAM-Catch-v0", **kwargs)


def test_rendering_modes():
    env = gym.make("RAM-Catch-v0", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (288, 288, 3) and frame.dtype == np.uint8
    assert np.any(frame[..., 0] != frame[..., 1])  # retina squares drawn
    full = gym.make("RAM-Catch-v0", obs_mode="full", render_mode="rgb_array")
    full.reset(seed=0)
    assert full.render().shape == (288, 288, 3)
    human = gym.make("RAM-Catch-v0", render_mode="human")
    human.reset(seed=0)
    human.step(act())
    human.close()


def test_gymnasium_play_uses_the_arrow_keys(monkeypatch):
    from gymnasium.utils import play as gym_play

    env = gym.make("RAM-Catch-v0", obs_mode="full", render_mode="rgb_array")
    keys = env.unwrapped.get_keys_to_action()
    assert keys == {(pygame.K_LEFT,): LEFT, (pygame.K_RIGHT,): RIGHT}
    with pytest.raises(RuntimeError, match="obs_mode='full'"):
        ram_env.CatchEnv().get_keys_to_action()
    frames = {"n": 0}
    real_get = pygame.event.get

    def scripted_get(*args, **kwargs):  # hold RIGHT for a while, then close the window
        real_get(*args, **kwargs)
        frames["n"] += 1
        if frames["n"] == 1:
            return [pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RIGHT)]
        if frames["n"] >= 30:
            return [pygame.event.Event(pygame.QUIT)]
        return []

    monkeypatch.setattr(pygame.event, "get", scripted_get)
    gym_play.play(env, noop=STAY, fps=1000)
    assert frames["n"] >= 30


def test_interactive_player_runs_headless_with_injected_keys():
    right = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RIGHT)
    release = pygame.event.Event(pygame.KEYUP, key=pygame.K_RIGHT)
    game = CatchGame(seed=0, fps=1000)
    start = int(game.task.paddle[0])
    game.run(max_frames=5, events=[[right], [], [], [release], []])
    assert game.frames == 5 and game.task.paddle[0] == min(start + 3, 22)
    game = CatchGame(seed=0, fps=1000)
    game.run(max_frames=70)
    assert game.caught + game.dropped == 3
    quit_event = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE)
    game = CatchGame(seed=0, fps=1000)
    game.run(max_frames=100, events=[[], [quit_event]])
    assert game.frames == 1


def test_fovea_player_follows_the_mouse():
    game = CatchGame(fovea=True, seed=0, fps=1000, scale=10)
    mouse = pygame.event.Event(pygame.MOUSEMOTION, pos=(60, 28 + 180), rel=(0, 0), buttons=(0, 0, 0))
    game.run(max_frames=3, events=[[mouse], [], []])
    np.testing.assert_allclose(game.obs["location"], [0.5, -0.5])
    picture = game.picture()
    assert picture.shape == (240, 240, 3)


def test_a_key_tap_shorter_than_a_frame_is_not_lost():
    down = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_LEFT)
    up = pygame.event.Event(pygame.KEYUP, key=pygame.K_LEFT)
    game = CatchGame(seed=0, fps=1000, screen_size=40)
    game.task.paddle[0] = 30
    game.run(max_frames=8, events=[[down, up]] * 8)  # pressed and released between two steps, 8 times
    assert game.task.paddle[0] == 22


def test_play_without_a_display_says_so_and_exits(capsys):
    from ram_env.play import main

    assert main(["catch"]) == 2  # the tests run with SDL_VIDEODRIVER=dummy
    assert "no display" in capsys.readouterr().err


def test_human_window_shows_the_step_and_the_outcome():
    env = gym.make("RAM-Catch-v0", render_mode="human")
    env.reset(seed=0)
    terminated = False
    while not terminated:
        terminated = env.step(act())[2]
    status = env.unwrapped._status()
    assert status.startswith("step 23/23") and ("caught" in status or "missed" in status)
    assert env.unwrapped._window.title == "ram-gym: RAM-Catch-v0"
    env.close()
