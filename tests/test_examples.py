"""Every script in examples/ runs end to end with a tiny budget, so none of them rots."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

#: example file -> arguments giving a tiny budget
TINY_ARGS: dict[str, list[str]] = {
    "make_env.py": ["--episodes", "64", "--out", "{tmp}/frame.png"],
    "play_catch.py": ["--max-frames", "30", "--fps", "1000", "--fovea"],
    "train_ram.py": ["--steps", "3072", "--eval-episodes", "100"],
    "train_baseline.py": ["--algo", "a2c", "--steps", "2048", "--eval-episodes", "50"],
    "draw_glimpses.py": ["--steps", "3072", "--n", "4", "--out-dir", "{tmp}/pictures"],
    "own_images.py": ["--steps", "3072", "--out", "{tmp}/own"],
    "fine_tune.py": ["--steps", "3072", "--eval-episodes", "100"],
    "extensions.py": ["--steps", "3072", "--eval-episodes", "100", "--out", "{tmp}/ext"],
    "custom_agent.py": ["--steps", "3072", "--seeds", "0", "--out", "{tmp}/custom"],
    "benchmark.py": [
        "--algos",
        "ram",
        "a2c",
        "--seeds",
        "0",
        "--steps",
        "2048",
        "--eval-episodes",
        "50",
        "--out",
        "{tmp}/b",
    ],
}


def test_every_example_has_a_tiny_budget():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(TINY_ARGS)


#: further runs of an example with other arguments
EXTRA_RUNS = [
    (
        "train_ram.py",
        ["--env", "RAM-Catch-v0", "--config", "ram_catch", "--steps", "3000"],
    ),
]


@pytest.mark.parametrize(("name", "arguments"), sorted(TINY_ARGS.items()) + EXTRA_RUNS)
def test_example_runs(name, arguments, tmp_path):
    args = [a.format(tmp=tmp_path) for a in arguments]
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()
