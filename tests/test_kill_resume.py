"""Kill `ram train` at random points (SIGKILL, SIGINT, SIGTERM), then --resume: the final
model is bit-identical to an uninterrupted run's and progress.csv has each update once.
A second process training in the same directory is refused."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

ARGS = [
    "--env", "RAM-MNIST-v0", "--steps", "15360", "--num-envs", "32", "--checkpoint-every", "3",
    "--no-progress", "--no-tensorboard", "--eval-episodes", "0", "--threads", "1",
]  # fmt: skip
UPDATES = 15360 // (32 * 6)


def ram(*args: str) -> list[str]:
    return [sys.executable, "-m", "agents.cli", "train", *ARGS, *args]


def env() -> dict[str, str]:
    return {**os.environ, "SDL_VIDEODRIVER": "dummy", "PYTHONUNBUFFERED": "1"}


def wait_for(path, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(path)
        time.sleep(0.02)


def weights(path):
    data = torch.load(path, weights_only=True)
    return data["model"], data["progress"]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight") / "run"
    subprocess.run(ram("--out", str(out)), check=True, env=env(), capture_output=True)
    return weights(out / "model.pt")


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_killed_at_a_random_point_then_resumed_is_bit_identical(tmp_path, straight, signum):
    rng = random.Random(int(signum))
    out = tmp_path / "run"
    process = subprocess.Popen(ram("--out", str(out)), env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(out / "checkpoint.pt")
    time.sleep(rng.uniform(0.0, 0.4))
    process.send_signal(signum)
    output = process.communicate(timeout=60)[0].decode()
    if signum != signal.SIGKILL and process.returncode != 0:  # stopped at an update boundary, checkpointed
        assert process.returncode == 130 and "continue with --resume" in output, output
    resumed = subprocess.run(ram("--out", str(out), "--resume"), env=env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    model, progress = weights(out / "model.pt")
    want_model, want_progress = straight
    assert progress == want_progress
    for key in want_model:
        torch.testing.assert_close(model[key], want_model[key], rtol=0, atol=0)
    steps = [int(r["env_steps"]) for r in csv.DictReader(open(out / "progress.csv"))]
    assert steps == sorted(set(steps)) and len(steps) == UPDATES
    assert not list(out.glob("*.tmp"))


def test_a_second_process_in_the_same_directory_is_refused(tmp_path):
    out = tmp_path / "run"
    first = subprocess.Popen(ram("--out", str(out), "--steps", "10000000"), env=env(), stdout=subprocess.DEVNULL)
    try:
        wait_for(out / "checkpoint.pt")
        second = subprocess.run(ram("--out", str(out), "--resume"), env=env(), capture_output=True, text=True)
        assert second.returncode == 2
        assert "is in use: pid" in second.stderr and "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 130


def test_sweep_workers_stop_when_the_sweep_is_killed(tmp_path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("name: long\nalgos: [ram]\nenvs: [RAM-MNIST-v0]\nseeds: [0, 1]\nsteps: 100000000\n")
    parent = subprocess.Popen(
        [sys.executable, "-m", "agents.cli", "bench", str(sweep), "--jobs", "2", "--out", str(tmp_path / "out")],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(list((tmp_path / "out" / "runs").glob("*/progress.csv"))) < 2:  # both workers are training
            assert time.monotonic() < deadline and parent.poll() is None
            time.sleep(0.1)
        workers = [int(p) for p in open(f"/proc/{parent.pid}/task/{parent.pid}/children").read().split()]
        assert len(workers) >= 2
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while any(alive(w) for w in workers):
        assert time.monotonic() < deadline, "a sweep worker kept training after its parent was killed"
        time.sleep(0.1)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "zombie" not in f.read()
    except FileNotFoundError:
        return False
