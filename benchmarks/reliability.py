"""Bad inputs against every surface, classified: does each get a clear error?

For each area (env keywords, actions, reset seeds and options, the sensor, checkpoint
fields, YAML files, `ram` arguments) a grid of bad inputs is tried, each with a time
limit, and every outcome is one of:

* **clear**: the expected kind of exception, whose message names the offending keyword,
  field or value;
* **unclear**: an exception, but of another kind or not naming the problem;
* **silent**: accepted without complaint;
* **hang**: still running after the time limit.

    python benchmarks/reliability.py            # prints the table per area and every non-clear case
    python benchmarks/reliability.py --kills 5  # also: kill `ram train` 5 times per signal, resume, compare
    python benchmarks/reliability.py --soak 3400000  # also: memory over that many vector-env steps
"""

from __future__ import annotations

import contextlib
import io
import math
import signal
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import ram_env  # noqa: F401
from agents import cli
from agents.checkpoint import CheckpointError, digest
from agents.ram import RAM
from agents.yamlfile import YamlFileError, load_mapping

BAD_VALUES: list[Any] = ["x", None, [1], -1, 0, 1.5, math.nan, math.inf, 2 + 1j, True, 10**9, {"a": 1}]


class Hang(Exception):
    pass


def outcome(fn: Callable[[], Any], expected: tuple[type, ...], names: list[str], seconds: float = 20.0) -> str:
    def alarm(signum: int, frame: Any) -> None:
        raise Hang

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            result = fn()
        if isinstance(result, int) and not isinstance(result, bool) and result == 2:  # the CLI's bad-input exit
            text = err.getvalue()
            return "clear" if any(n.lower() in text.lower() for n in names) and "Traceback" not in text else "unclear"
        return "silent"
    except Hang:
        return "hang"
    except expected as e:
        return "clear" if any(n.lower() in str(e).lower() for n in names) else "unclear"
    except Exception:  # noqa: BLE001 - the point is to classify everything
        return "unclear"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def env_keywords() -> list[tuple[str, Callable[[], Any], tuple[type, ...], list[str]]]:
    keywords = {
        "RAM-ClutteredMNIST-v0": [
            "split", "canvas_size", "n_distractors", "distractor_size", "n_glimpses", "glimpse_size",
            "n_scales", "scale_factor", "initial_location", "rollouts_per_image",
        ],
        "RAM-Catch-v0": [
            "screen_size", "paddle_width", "ball_speed", "max_angle", "glimpse_size", "n_scales",
            "scale_factor", "obs_mode", "initial_location",
        ],
    }  # fmt: skip
    valid_zero = {"n_distractors", "max_angle"}
    valid_values = {"initial_location": [], "max_angle": [1.5]}
    cases = []
    for env_id, names in keywords.items():
        for name in names:
            for value in BAD_VALUES:
                if value == 0 and name in valid_zero or value in valid_values.get(name, []):
                    continue
                if name == "scale_factor" and value == 1.5:
                    continue  # a valid factor
                cases.append(
                    (
                        f"{env_id} {name}={value!r}",
                        lambda e=env_id, n=name, v=value: gym.make(e, **{n: v}),
                        (ValueError, TypeError),
                        [name],
                    )
                )
        cases.append(
            (f"{env_id} unknown keyword", lambda e=env_id: gym.make(e, glimpses=3), (ValueError,), ["glimpses"])
        )
        cases.append(
            (f"{env_id} num_envs=10**9", lambda e=env_id: gym.make_vec(e, num_envs=10**9), (ValueError,), ["num_envs"])
        )
    return cases


def actions() -> list[tuple[str, Callable[[], Any], tuple[type, ...], list[str]]]:
    cases = []
    for env_id, key in (("RAM-MNIST-v0", "label"), ("RAM-Catch-v0", "move")):
        for batched in (False, True):
            n = 8

            def step(action: Any, e: str = env_id, b: bool = batched, n: int = n) -> Any:
                env = gym.make_vec(e, num_envs=n) if b else gym.make(e)
                env.reset(seed=0)
                return env.step(action)

            loc = np.zeros((n, 2) if batched else 2, np.float32)
            choice = np.zeros(n, int) if batched else 0
            bad_locs = [np.full_like(loc, np.nan), np.zeros(3, np.float32), "x", None, np.full_like(loc, np.inf)]
            bad_choices = [-1, 99, 1.5, "x", None, np.zeros(n + 1, int) if batched else [0, 1]]
            for bad in bad_locs:
                cases.append(
                    (
                        f"{env_id} batched={batched} location={bad!r:.30}",
                        lambda a={"location": bad, key: choice}, f=step: f(a),
                        (ValueError,),
                        ["location"],
                    )
                )
            for bad in bad_choices:
                value = np.full(n, bad) if batched and isinstance(bad, (int, float)) else bad
                cases.append(
                    (
                        f"{env_id} batched={batched} {key}={bad!r:.30}",
                        lambda a={"location": loc, key: value}, f=step: f(a),
                        (ValueError,),
                        [key],
                    )
                )
            cases.append(
                (
                    f"{env_id} batched={batched} missing key",
                    lambda f=step, lc=loc: f({"location": lc}),
                    (ValueError,),
                    [key],
                )
            )
            cases.append((f"{env_id} batched={batched} not a dict", lambda f=step: f([0, 0]), (ValueError,), ["dict"]))
    return cases


def resets() -> list[tuple[str, Callable[[], Any], tuple[type, ...], list[str]]]:
    cases = []
    for seed in ("1234", 1.5, [1, 2], -1, None, [None, "x", 1, 2]):
        if seed is None:
            continue
        cases.append(
            (
                f"vector reset(seed={seed!r})",
                lambda s=seed: gym.make_vec("RAM-MNIST-v0", num_envs=4).reset(seed=s),
                (ValueError, TypeError),
                ["seed"],
            )
        )
    for options in (
        {"index": -1},
        {"index": 10**9},
        {"index": "x"},
        {"initial_location": "left"},
        {"nope": 1},
        {"initial_location": [2, 2]},
    ):
        name = next(iter(options))
        cases.append(
            (
                f"reset(options={options!r})",
                lambda o=options: gym.make("RAM-MNIST-v0", split="test").reset(options=o),
                (ValueError,),
                [name],
            )
        )
    cases.append(
        (
            "step before reset",
            lambda: gym.make("RAM-MNIST-v0").step({"location": np.zeros(2), "label": 0}),
            (RuntimeError, gym.error.ResetNeeded),
            ["reset"],
        )
    )
    return cases


def sensor_inputs() -> list[tuple[str, Callable[[], Any], tuple[type, ...], list[str]]]:
    s = ram_env.GlimpseSensor(4, 2)
    images = {
        "int64 near its range": np.full((8, 8), 2**62, np.int64),
        "uint64 near its range": np.full((8, 8), 2**63, np.uint64),
        "float 1e308": np.full((8, 8), 1e308),
        "NaN image": np.full((8, 8), np.nan),
        "complex image": np.ones((8, 8), complex),
        "string image": np.full((8, 8), "a"),
        "4-d image": np.ones((1, 1, 8, 8)),
        "empty image": np.ones((0, 8)),
    }
    cases = [
        (
            f"sensor {k}",
            lambda im=v: s(im, np.zeros(2)),
            (ValueError,),
            ["image", "overflow", "values", "nan", "dtype", "shape"],
        )
        for k, v in images.items()
    ]
    for loc in (np.full(2, np.nan), np.zeros(3), np.full(2, np.inf)):
        cases.append((f"sensor location {loc!r}", lambda lc=loc: s(np.ones((8, 8)), lc), (ValueError,), ["location"]))
    for kw in (
        {"glimpse_size": 0},
        {"n_scales": 40},
        {"scale_factor": 2 + 1j},
        {"scale_factor": 1e9, "n_scales": 3},
        {"glimpse_size": "8"},
    ):
        cases.append(
            (f"sensor {kw}", lambda k=kw: ram_env.GlimpseSensor(**k), (ValueError,), list(k for k in kw) + ["patch"])
        )
    return cases


def checkpoints(tmp: Path) -> list[tuple[str, Callable[[], Any], tuple[type, ...], list[str]]]:
    path = tmp / "ok.pt"
    RAM("RAM-MNIST-v0", seed=0, num_envs=8).learn(96).save(path)
    base = torch.load(path, weights_only=True)

    def write(mutate: Callable[[dict], Any], fresh_digest: bool = True) -> Path:
        data = torch.load(path, weights_only=True)
        mutate(data)
        if fresh_digest and "digest" in data:
            data.pop("digest")
            data["digest"] = digest(data)
        out = tmp / f"bad{len(list(tmp.iterdir()))}.pt"
        torch.save(data, out)
        return out

    mutations: dict[str, tuple[Callable[[dict], Any], list[str]]] = {
        "env_id module:id": (lambda d: d.update(env_id="this:Nope"), ["env_id"]),
        "env_id unregistered": (lambda d: d.update(env_id="RAM-Nope-v0"), ["env_id"]),
        "env_id not a string": (lambda d: d.update(env_id=3), ["env_id"]),
        "format_version string": (lambda d: d.update(format_version="2"), ["format_version"]),
        "format_version future": (lambda d: d.update(format_version=99), ["format"]),
        "config a list": (lambda d: d.update(config=[1]), ["config"]),
        "hidden_size negative": (lambda d: d["config"].update(hidden_size=-1), ["hidden_size"]),
        "hidden_size huge": (lambda d: d["config"].update(hidden_size=10**9), ["hidden_size"]),
        "num_envs huge": (lambda d: d["config"].update(num_envs=10**9), ["num_envs"]),
        "unknown config field": (lambda d: d["config"].update(bogus=1), ["bogus"]),
        "optimizer foreign": (
            lambda d: d.update(optimizer={"state": {}, "param_groups": [{"params": [0]}]}),
            ["optimizer"],
        ),
        "rng garbage": (lambda d: d.update(rng={"torch": torch.zeros(2)}), ["rng"]),
        "rng envs garbage": (lambda d: d.update(rng={"torch": torch.get_rng_state(), "envs": [1]}), ["rng"]),
        "negative step count": (lambda d: d["progress"].update(num_timesteps=-1), ["num_timesteps"]),
        "model missing a tensor": (lambda d: d["model"].popitem(), ["model"]),
        "model not a dict": (lambda d: d.update(model=3), ["model"]),
        "algo unknown": (lambda d: d.update(algo="nope"), ["algo", "nope"]),
    }
    cases = [
        (f"checkpoint {k}", lambda m=m: RAM.load(write(m)), (CheckpointError,), names)
        for k, (m, names) in mutations.items()
    ]
    cases.append(
        (
            "checkpoint edited config, old digest",
            lambda: RAM.load(write(lambda d: d["config"].update(location_std=0.5), False)),
            (CheckpointError,),
            ["digest"],
        )
    )
    raw = bytearray(path.read_bytes())
    weight = base["model"]["glimpse_network.what.weight"].numpy().tobytes()[:64]
    raw[raw.find(weight) + 5] ^= 1
    (tmp / "flip.pt").write_bytes(bytes(raw))
    cases.append(
        ("checkpoint one flipped byte", lambda: RAM.load(tmp / "flip.pt"), (CheckpointError,), ["digest", "corrupt"])
    )
    (tmp / "junk.pt").write_bytes(b"junk")
    cases.append(("checkpoint junk file", lambda: RAM.load(tmp / "junk.pt"), (CheckpointError,), ["corrupt"]))
    (tmp / "half.pt").write_bytes(path.read_bytes()[: len(raw) // 2])
    cases.append(("checkpoint truncated", lambda: RAM.load(tmp / "half.pt"), (CheckpointError,), ["corrupt"]))
    return cases


def yaml_files(tmp: Path) -> list[tuple[str, Callable[[], Any], tuple[type, ...], list[str]]]:
    texts = {
        "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "duplicate key": "a: 1\na: 2\n",
        "not a mapping": "- 1\n",
        "broken": "a: [1\n",
        "python tag": "a: !!python/object/apply:os.system ['echo hi']\n",
        "huge": "a: " + "x" * 2_000_000 + "\n",
    }
    cases = []
    for name, text in texts.items():
        p = tmp / f"{name.replace(' ', '_')}.yaml"
        p.write_text(text)
        cases.append(
            (
                f"yaml {name}",
                lambda p=p: load_mapping(p),
                (YamlFileError,),
                [str(p.name), "alias", "duplicate", "mapping", "yaml", "large"],
            )
        )
    (tmp / "latin1.yaml").write_bytes(b"a: caf\xe9\n")
    cases.append(("yaml not UTF-8", lambda: load_mapping(tmp / "latin1.yaml"), (YamlFileError,), ["utf-8"]))
    sweeps = {
        "duplicate seeds": ("seeds: [0, 0]", "seeds"),
        "duplicate algos": ("algos: [ram, ram]", "algos"),
        "steps true": ("steps: true", "steps"),
        "minutes -1": ("minutes: -1", "minutes"),
        "minutes abc": ("minutes: abc", "minutes"),
        "eval_episodes 0": ("eval_episodes: 0", "eval_episodes"),
        "unknown hparam": ("hparams: {ram: {bogus: 1}}", "bogus"),
        "invalid env_kwargs": ("env_kwargs: {RAM-MNIST-v0: {n_glimpses: 0}}", "n_glimpses"),
    }
    base = {
        "name": "name: t",
        "algos": "algos: [ram]",
        "envs": "envs: [RAM-MNIST-v0]",
        "seeds": "seeds: [0]",
        "steps": "steps: 100",
    }
    for name, (line, field) in sweeps.items():
        key = line.split(":")[0]
        lines = {**base, key: line}
        p = tmp / f"sweep_{name.replace(' ', '_')}.yaml"
        p.write_text("\n".join(lines.values()) + "\n")
        cases.append(
            (
                f"sweep {name}",
                lambda p=p: cli.main(["bench", str(p), "--out", str(tmp / "bench")]),
                (SystemExit,),
                [field],
            )
        )
    return cases


def cli_arguments(tmp: Path) -> list[tuple[str, Callable[[], Any], tuple[type, ...], list[str]]]:
    train = ["train", "--env", "RAM-MNIST-v0", "--no-progress", "--out"]
    argvs = {
        "--set learning_rate=[": ([*train, str(tmp / "a"), "--set", "learning_rate=["], "yaml"),
        "--set lr=1": ([*train, str(tmp / "b"), "--set", "lr=1"], "lr"),
        "--checkpoint-every 0": ([*train, str(tmp / "c"), "--checkpoint-every", "0"], "checkpoint-every"),
        "--steps -5": ([*train, str(tmp / "d"), "--steps", "-5"], "steps"),
        "--minutes -1": ([*train, str(tmp / "e"), "--minutes", "-1"], "minutes"),
        "unknown --env": (["train", "--env", "RAM-Foo-v0", "--out", str(tmp / "f")], "RAM-Foo-v0"),
        "--env-arg glimpses=3": ([*train, str(tmp / "g"), "--env-arg", "glimpses=3"], "glimpses"),
        "--config missing": ([*train, str(tmp / "h"), "--config", "nope.yaml"], "nope.yaml"),
        "--resume without run": ([*train, str(tmp / "i"), "--resume"], "resume"),
        "eval junk": (["eval", str(tmp / "junk.pt")], "corrupt"),
        "eval missing": (["eval", str(tmp / "none.pt")], "not found"),
        "show --n 0": (["show", "--pretrained", "RAM-MNIST-v0", "--n", "0"], "--n"),
        "show --out x.jpg": (["show", "--pretrained", "RAM-MNIST-v0", "--out", str(tmp / "x.jpg")], ".png"),
        "eval --pretrained unknown": (["eval", "--pretrained", "RAM-Nope-v0"], "RAM-Nope-v0"),
    }
    return [
        (f"ram {name}", lambda a=argv: cli.main(a), (SystemExit,), [field]) for name, (argv, field) in argvs.items()
    ]


def kills(per_signal: int, tmp: Path) -> None:
    """Kill a short `ram train` at random points, resume it, and compare with a straight run."""
    import csv
    import os
    import random
    import subprocess
    import time

    args = [sys.executable, "-m", "agents.cli", "train", "--env", "RAM-MNIST-v0", "--steps", "15360"]
    args += ["--num-envs", "32", "--checkpoint-every", "3", "--no-progress", "--no-tensorboard"]
    args += ["--eval-episodes", "0", "--threads", "1", "--out"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run([*args, str(tmp / "straight")], check=True, env=env, capture_output=True)
    want = torch.load(tmp / "straight" / "model.pt", weights_only=True)["model"]
    rng = random.Random(0)
    print("\n| signal | kills | resumed bit-identical | progress.csv rows each once |\n|---|---|---|---|")
    for signum in (signal.SIGKILL, signal.SIGINT, signal.SIGTERM):
        same = clean = 0
        for k in range(per_signal):
            out = tmp / f"{signum.name}-{k}"
            process = subprocess.Popen([*args, str(out)], env=env, stdout=subprocess.DEVNULL)
            while not (out / "checkpoint.pt").exists():
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.5))
            process.send_signal(signum)
            process.wait()
            subprocess.run([*args, str(out), "--resume"], check=True, env=env, capture_output=True)
            got = torch.load(out / "model.pt", weights_only=True)["model"]
            same += all(torch.equal(got[key], want[key]) for key in want)
            steps = [int(r["env_steps"]) for r in csv.DictReader(open(out / "progress.csv"))]
            clean += steps == sorted(set(steps)) and len(steps) == 80
        print(f"| {signum.name} | {per_signal} | {same} of {per_signal} | {clean} of {per_signal} |")


def soak(steps: int) -> None:
    """Resident memory while a 256-env RAM-ClutteredMNIST-v0 vector env steps ``steps`` times in all."""
    import resource

    def rss_mb() -> float:
        with open("/proc/self/status") as f:
            line = next(x for x in f if x.startswith("VmRSS"))
        return int(line.split()[1]) / 1024

    envs = gym.make_vec("RAM-ClutteredMNIST-v0", num_envs=256)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    samples = []
    for i in range(steps // 256):
        action = {"location": rng.uniform(-1, 1, (256, 2)).astype(np.float32), "label": rng.integers(0, 10, 256)}
        envs.step(action)
        if i % max(1, steps // 256 // 10) == 0:
            samples.append(rss_mb())
    samples.append(rss_mb())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nsoak: {steps:,} vector-env steps (256 envs): RSS {samples[0]:.0f} MB after the first step, "
        f"{samples[-1]:.0f} MB at the end (samples {', '.join(f'{x:.0f}' for x in samples)}), peak {peak:.0f} MB"
    )


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=0, help="kills per signal (0: skip)")
    parser.add_argument("--soak", type=int, default=0, help="vector-env steps of the soak (0: skip)")
    options = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "junk.pt").write_bytes(b"junk")
        areas = {
            "env keywords": env_keywords(),
            "actions": actions(),
            "reset seeds and options": resets(),
            "glimpse sensor": sensor_inputs(),
            "checkpoint files": checkpoints(tmp / "ckpt" if (tmp / "ckpt").mkdir() is None else tmp),
            "YAML and sweep files": yaml_files(tmp),
            "ram arguments": cli_arguments(tmp),
        }
        rows, problems = [], []
        for area, cases in areas.items():
            counts: Counter[str] = Counter()
            for name, fn, expected, names in cases:
                result = outcome(fn, expected, names)
                counts[result] += 1
                if result != "clear":
                    problems.append(f"{area}: {name}: {result}")
            rows.append((area, len(cases), counts["clear"], counts["unclear"], counts["silent"], counts["hang"]))
    print("| area | cases | clear error | unclear error | silent | hang |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(v) for v in row) + " |")
    total = [sum(r[i] for r in rows) for i in range(1, 6)]
    print("| **all** | " + " | ".join(str(v) for v in total) + " |")
    if problems:
        print("\nnot clear:")
        print("\n".join(f"- {p}" for p in problems))
    if options.soak:
        soak(options.soak)
    if options.kills:
        with tempfile.TemporaryDirectory() as d:
            kills(options.kills, Path(d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
