"""Bad inputs against every surface, classified: does each get a clear error?

For each area (env keywords, actions, reset seeds and options, the sensor, checkpoint
fields, YAML files, `ram` arguments, own image files and arrays, the extensions' env
keywords, seeding, `ram train` hyper-parameters, plug-in agents, code a run's files name,
concurrent sweeps) a grid of bad inputs is tried, each with a time limit, and every
outcome is one of:

* **clear**: the expected kind of exception, whose message names the offending keyword,
  field or value;
* **unclear**: an exception, but of another kind or not naming the problem;
* **silent**: accepted without complaint - or, for a probe that checks a result (a seed's
  image, a 16-bit PNG's values, a split's classes, a NaN-free glimpse), a wrong result;
* **hang**: still running after the time limit;
* **code-run**: a file made ram-gym run code it names (a planted pickle unpickled, a planted
  module imported): the probe's marker file appeared.

A probe that checks a result counts a right one as clear (and a valid value refused as
unclear).  A `ram` command counts as clear when it exits with code 2 and one stderr line
naming the problem, without a traceback.

    python benchmarks/reliability.py            # prints the table per area and every non-clear case
    python benchmarks/reliability.py --area plug  # only the areas whose name contains "plug"
    python benchmarks/reliability.py --sweep-kills  # also: SIGKILL a `ram bench --jobs 2`, check it resumes
    python benchmarks/reliability.py --kills 5  # also: kill `ram train` 5 times per signal, resume, compare
    python benchmarks/reliability.py --soak 3400000  # also: memory over that many vector-env steps
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch

import ram_env
from agents import cli
from agents.checkpoint import CheckpointError, digest
from agents.ram import RAM
from agents.yamlfile import YamlFileError, load_mapping
from ram_env import images as own_images

BAD_VALUES: list[Any] = ["x", None, [1], -1, 0, 1.5, math.nan, math.inf, 2 + 1j, True, 10**9, {"a": 1}]
OUTCOMES = ("clear", "unclear", "silent", "hang", "code-run")


class Hang(BaseException):  # not an Exception: code under test that catches Exception must not swallow it
    pass


class Verdict(str):
    """What a probe that checks a result found: one of :data:`OUTCOMES` (returned, not raised)."""


class Case(NamedTuple):
    name: str
    fn: Callable[[], Any]
    expected: tuple[type, ...]
    names: list[str]
    marker: Path | None = None  #: code-run if this file exists after the probe
    seconds: float = 20.0


def outcome(
    fn: Callable[[], Any],
    expected: tuple[type, ...],
    names: list[str],
    seconds: float = 20.0,
    said: list[str] | None = None,
) -> str:
    """How ``fn()`` ends, classified; ``said`` (if given) gets what it raised, printed or returned."""

    def alarm(signum: int, frame: Any) -> None:
        raise Hang

    said = [] if said is None else said
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            result = fn()
        said.append(f"returned {result!r:.80}" + (f"; stderr: {err.getvalue().strip()}" if err.getvalue() else ""))
        if isinstance(result, Verdict):
            return str(result)
        if isinstance(result, int) and not isinstance(result, bool) and result == 2:  # the CLI's bad-input exit
            text = err.getvalue()
            named = any(n.lower() in text.lower() for n in names)
            return "clear" if named and len(text.strip().splitlines()) == 1 and "Traceback" not in text else "unclear"
        return "silent"
    except Hang:
        said.append(f"still running after {seconds:g} s")
        return "hang"
    except expected as e:
        said.append(f"{type(e).__name__}: {e}")
        return "clear" if any(n.lower() in str(e).lower() for n in names) else "unclear"
    except Exception as e:  # noqa: BLE001 - the point is to classify everything
        said.append(f"{type(e).__name__}: {e}")
        return "unclear"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def classify(case: Case, said: list[str] | None = None) -> str:
    """:func:`outcome` of ``case``, or ``"code-run"`` if its marker file appeared."""
    if case.marker is not None:
        case.marker.unlink(missing_ok=True)
    result = outcome(case.fn, case.expected, case.names, case.seconds, said)
    if case.marker is not None and case.marker.exists():
        case.marker.unlink()
        return "code-run"
    return result


@contextlib.contextmanager
def isolated(prefix: str) -> Iterator[None]:
    """Modules named ``prefix...`` imported and algorithms registered inside are forgotten
    afterwards (a plug-in or planted module is imported afresh by the next probe)."""
    from agents.registry import ALGORITHMS

    algorithms = dict(ALGORITHMS)
    try:
        yield
    finally:
        for name in [m for m in sys.modules if m.startswith(prefix)]:
            del sys.modules[name]
        ALGORITHMS.clear()
        ALGORITHMS.update(algorithms)


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


def npy(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """An .npy file of ``header`` (written by hand: it may declare anything) and ``payload``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + payload


def saved(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


class Planted:
    """Unpickled, it writes ``marker``: a pickle that must never be loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return exec, (f"open({str(self.marker)!r}, 'w').write('unpickled')",)


def good_npz(n: int = 20) -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(buf, images=rng.integers(0, 256, (n, 8, 8), dtype=np.uint8), labels=np.arange(n) % 2)
    return buf.getvalue()


def npz_files(tmp: Path) -> list[Case]:
    """Broken and hostile ``.npz`` files given as ``data=``."""
    good, labels = good_npz(), saved(np.arange(4) % 2)
    flip = len(good) // 2
    files: dict[str, bytes | Callable[[Path], Path]] = {
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "one byte flipped in the pixels": good[:flip] + bytes([good[flip] ^ 0xFF]) + good[flip + 1 :],
        "noise": np.random.default_rng(1).bytes(2000),
        "text": b"images,labels\n1,2\n",
        "a .npy, not an .npz": saved(np.zeros((4, 8, 8), np.uint8)),
        "a zip without members": lambda p: zipped(p, {}),
        "no labels": lambda p: zipped(p, {"images.npy": saved(np.zeros((4, 8, 8), np.uint8))}),
        "images of rank 1": lambda p: zipped(p, {"images.npy": saved(np.zeros(4, np.uint8)), "labels.npy": labels}),
    }
    huge = {
        "93 GiB": {"descr": "|u1", "fortran_order": False, "shape": (100_000, 100_000, 10)},
        "2**62 int64 labels": {"descr": "<i8", "fortran_order": False, "shape": (2**62,)},
        "an overflowing shape": {"descr": "<f8", "fortran_order": False, "shape": (2**40, 2**40, 2**40)},
        "a negative shape": {"descr": "|u1", "fortran_order": False, "shape": (-4, 8, 8)},
        "a non-integer shape": {"descr": "|u1", "fortran_order": False, "shape": (4.5, 8, 8)},
    }
    for name, header in huge.items():
        member = "labels.npy" if "labels" in name else "images.npy"
        other = saved(np.zeros((4, 8, 8), np.uint8)) if "labels" in name else labels
        partner = "images.npy" if member == "labels.npy" else "labels.npy"
        files[f"declaring {name}"] = partial(zipped, members={member: npy(header, b"\0" * 64), partner: other})
    cases = []
    for k, (name, content) in enumerate(files.items()):
        path = tmp / f"npz{k}.npz"
        path.write_bytes(content) if isinstance(content, bytes) else content(path)
        cases.append(Case(f".npz {name}", partial(gym.make, "RAM-Glimpse-v0", data=path), (ValueError,), [path.name]))
    return cases


def pickled_data(tmp: Path) -> list[Case]:
    """Files whose arrays would need a pickle, each a planted one: refused, never unpickled."""
    marker = tmp / "unpickled.marker"
    planted = pickle.dumps(Planted(marker), protocol=3)
    obj = npy({"descr": "|O", "fortran_order": False, "shape": (4,)}, planted)
    field = npy({"descr": [("a", "|O")], "fortran_order": False, "shape": (4,)}, planted)
    images, labels = saved(np.zeros((4, 8, 8), np.uint8)), saved(np.arange(4) % 2)
    files: dict[str, tuple[str, Callable[[Path], Any]]] = {
        "object images": (".npz", lambda p: zipped(p, {"images.npy": obj, "labels.npy": labels})),
        "object labels": (".npz", lambda p: zipped(p, {"images.npy": images, "labels.npy": obj})),
        "object train_images": (".npz", lambda p: zipped(p, {"train_images.npy": obj, "train_labels.npy": labels})),
        "a structured dtype with an object field": (
            ".npz",
            lambda p: zipped(p, {"images.npy": field, "labels.npy": labels}),
        ),
        "a raw pickle as the images member": (
            ".npz",
            lambda p: zipped(p, {"images.npy": planted, "labels.npy": labels}),
        ),
        "an object .npy": (".npy", lambda p: p.write_bytes(obj)),
        "a pickle file": (".pkl", lambda p: p.write_bytes(planted)),
    }
    cases = []
    for k, (name, (suffix, write)) in enumerate(files.items()):
        path = tmp / f"pickled{k}{suffix}"
        write(path)
        fn = lambda p=path: gym.make("RAM-Glimpse-v0", data=p)  # noqa: E731
        cases.append(Case(f"data with {name}", fn, (ValueError,), [path.name], marker))
    return cases


def class_folder(root: Path, counts: list[int], size: int = 8) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for k, n in enumerate(counts):
        (root / f"class{k}").mkdir(parents=True)
        for j in range(n):
            Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(root / f"class{k}" / f"{j}.png")
    return root


def png16(path: Path, pixels: np.ndarray) -> Path:
    """uint16 ``(h, w)`` or ``(h, w, c)`` (c of 2, 3, 4) as a 16-bit PNG (Pillow cannot write colour ones)."""
    h = pixels.shape[0]
    kind = 0 if pixels.ndim == 2 else {2: 4, 3: 2, 4: 6}[pixels.shape[2]]
    rows = np.ascontiguousarray(pixels.astype(">u2")).reshape(h, -1).view(np.uint8)
    data = np.hstack([np.zeros((h, 1), np.uint8), rows]).tobytes()  # filter 0 on every row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", pixels.shape[1], h, 16, kind, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b"")
    )
    return path


def png_folders(tmp: Path) -> list[Case]:
    """Class folders holding a broken, special or odd file (named in the error, no hang)."""
    from PIL import Image

    good = class_folder(tmp / "ok", [1]).joinpath("class0", "0.png").read_bytes()
    idat = good.find(b"IDAT") + 8
    faults: dict[str, Callable[[Path], Any]] = {
        "empty": lambda p: p.write_bytes(b""),
        "truncated": lambda p: p.write_bytes(good[: len(good) // 2]),
        "corrupt (a byte of its image data flipped)": lambda p: p.write_bytes(
            good[:idat] + bytes([good[idat] ^ 0xFF]) + good[idat + 1 :]
        ),
        "text": lambda p: p.write_text("not a picture"),
        "a FIFO": lambda p: os.mkfifo(p),
        "a folder": lambda p: p.mkdir(),
        "a symlink to /dev/zero": lambda p: p.symlink_to("/dev/zero"),
        "a symlink loop": lambda p: p.symlink_to(p),
        "of another size": lambda p: Image.fromarray(np.zeros((12, 12), np.uint8)).save(p),
        "a truncated 16-bit one": lambda p: p.write_bytes(png16(p, np.full((8, 8), 999, np.uint16)).read_bytes()[:60]),
    }
    cases = []
    for k, (name, make) in enumerate(faults.items()):
        folder = class_folder(tmp / f"folder{k}", [2, 2])
        make(folder / "class1" / "7.png")
        fn = lambda f=folder: gym.make("RAM-Glimpse-v0", data=f)  # noqa: E731
        cases.append(Case(f"folder with {name} 7.png", fn, (ValueError,), ["7.png"], seconds=10.0))
    (tmp / "no-classes").mkdir()
    (tmp / "no-images" / "class0").mkdir(parents=True)
    for name in ("no-classes", "no-images"):
        fn = lambda f=tmp / name: gym.make("RAM-Glimpse-v0", data=f)  # noqa: E731
        cases.append(Case(f"folder with {name}", fn, (ValueError,), [name]))
    for name, data in (("/dev/zero", "/dev/zero"), ("a FIFO .npz", tmp / "fifo.npz"), ("3", 3)):
        if isinstance(data, Path):
            os.mkfifo(data)
        fn = lambda d=data: gym.make("RAM-Glimpse-v0", data=d)  # noqa: E731
        cases.append(Case(f"data={name}", fn, (ValueError,), [str(data), "data"], seconds=10.0))
    return cases


def sixteen_bit_reads(tmp: Path, channels: int) -> Verdict:
    """A 16-bit PNG (``channels`` 1..4) read at full depth: ``v / 65535``, not white nor 8-bit."""
    rng = np.random.default_rng(channels)
    shape = (8, 8) if channels == 1 else (8, 8, channels)
    pixels = rng.integers(256, 65280, shape).astype(np.uint16)  # mid-grey: all-white would show
    root = tmp / f"deep{channels}"
    (root / "a").mkdir(parents=True)
    png16(root / "a" / "0.png", pixels)
    images, _ = own_images.load_image_set(root)["all"]
    want = pixels / 65535.0
    if channels == 2:  # grey with alpha reads as colour, alpha dropped (as an 8-bit one does)
        want = np.repeat(want[..., :1], 3, axis=2)
    elif channels == 4:
        want = want[..., :3]
    return Verdict("clear" if images[0].shape == want.shape and np.allclose(images[0], want, atol=1e-6) else "silent")


def mixed_depths_read_alike(tmp: Path) -> Verdict:
    """An 8-bit PNG and a 16-bit one of the same picture (``v * 257``) read the same."""
    from PIL import Image

    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    root = tmp / "mixed"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    Image.fromarray(grey).save(root / "a" / "8.png")
    png16(root / "b" / "16.png", grey.astype(np.uint16) * 257)
    images, _ = own_images.load_image_set(root)["all"]
    return Verdict("clear" if np.allclose(images[0], images[1], atol=1e-6) and images.max() < 1 else "silent")


def every_split_has_every_class(data: Any = None, images: Any = None, labels: Any = None) -> Verdict:
    """Three classes of 30 images: train 24, validation 3, test 3 of each, the splits disjoint."""
    want = {"train": [24] * 3, "validation": [3] * 3, "test": [3] * 3}
    got = {s: np.bincount(own_images.split_of(images, labels, data, s)[1], minlength=3).tolist() for s in want}
    if labels is not None:
        parts = np.concatenate([own_images.split_indices(labels, s) for s in want])
        if sorted(parts.tolist()) != list(range(len(labels))):
            return Verdict("silent")
    return Verdict("clear" if got == want else "silent")


def image_results(tmp: Path) -> list[Case]:
    """Checks of what is read: 16-bit depth, splits per class."""
    x = np.random.default_rng(0).integers(0, 256, (90, 8, 8), dtype=np.uint8)
    by_class, interleaved = np.repeat(np.arange(3), 30), np.arange(90) % 3
    np.savez(tmp / "by_class.npz", images=x, labels=by_class)
    folder = class_folder(tmp / "splits", [30, 30, 30])
    checks: dict[str, Callable[[], Verdict]] = {
        **{f"16-bit PNG of {c} channel(s) read at full depth": partial(sixteen_bit_reads, tmp, c) for c in range(1, 5)},
        "8- and 16-bit PNGs of one picture read alike": lambda: mixed_depths_read_alike(tmp),
        "folder of 3x30: every split has every class": lambda: every_split_has_every_class(folder),
        ".npz ordered by class: every split has every class": lambda: every_split_has_every_class(tmp / "by_class.npz"),
        "arrays ordered by class: splits per class, a partition": lambda: every_split_has_every_class(
            None, x, by_class
        ),
        "arrays interleaved: splits per class, a partition": lambda: every_split_has_every_class(None, x, interleaved),
    }
    return [Case(name, fn, (), []) for name, fn in checks.items()]


def label_values(tmp: Path) -> list[Case]:
    """Labels out of the class range, of the wrong kind, in arrays and in a file."""
    x = np.zeros((5, 8, 8), np.uint8)
    bad: dict[str, Any] = {
        "2**62": np.array([0, 1, 2, 3, 2**62]),
        "2**63 + 5 (uint64)": np.array([0, 1, 2, 3, 2**63 + 5], np.uint64),
        "2**64 (a Python int)": [0, 1, 2, 3, 2**64],
        "65536": np.array([0, 1, 2, 3, 65536]),
        "-1": np.array([0, 1, 2, 3, -1]),
        "1e30": np.array([0.0, 1, 2, 3, 1e30]),
        "NaN": np.array([0.0, 1, 2, 3, np.nan]),
        "2.5": np.array([0.0, 1, 2, 3, 2.5]),
        "strings": np.array(["0", "1", "2", "3", "4"]),
    }
    cases = [
        Case(f"labels {k}", partial(gym.make, "RAM-Glimpse-v0", images=x, labels=y), (ValueError,), ["label"])
        for k, y in bad.items()
    ]
    np.savez(tmp / "huge_label.npz", images=x, labels=bad["2**62"])
    cases.append(
        Case(
            ".npz with a label of 2**62",
            lambda: gym.make("RAM-Glimpse-v0", data=tmp / "huge_label.npz"),
            (ValueError,),
            ["label"],
        )
    )
    return cases


def own_images_area(tmp: Path) -> list[Case]:
    tmp.mkdir()
    return [*npz_files(tmp), *pickled_data(tmp), *png_folders(tmp), *image_results(tmp), *label_values(tmp)]


def zoomed_glimpses(zoom: Any, env_id: str = "RAM-MNIST-v0", valid: bool = False) -> Verdict | None:
    """Make an env with ``zoom``, glimpse at the zoom range's ends: a NaN (or a value outside
    [0, 1]) is silent-wrong; a valid range that reads well is clear, a bad one accepted silent."""
    env = gym.make(env_id, zoom=zoom)
    env.reset(seed=0)
    for z in (-1.0, 1.0, 0.0, -1.0):
        action = {"location": np.array([0.9, -0.9], np.float32), "label": 0, "zoom": np.array([z], np.float32)}
        glimpse = env.step(action)[0]["glimpse"]
        if not (np.all(np.isfinite(glimpse)) and glimpse.min() >= 0 and glimpse.max() <= 1):
            return Verdict("silent")
    return Verdict("clear") if valid else None


def steps_with(env_id: str = "RAM-MNIST-v0", **kwargs: Any) -> Verdict:
    """A valid setting: the env is made and steps with a finite reward (an error: unclear)."""
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    reward = env.step(env.action_space.sample())[1]
    return Verdict("clear" if np.isfinite(float(reward)) else "silent")


def zoom_ranges() -> list[Case]:
    bad: list[Any] = [(0, 10), (5, 2), (2, 2), (math.nan, 5), (1, math.inf), (-1, 5), "x", (1,), (1, 2, 3)]
    bad += [(True, 5), (0.001, 1), (1, 1e9), [np.nan, np.nan], (np.float32(1), None), 4.0, (1, 2 + 1j)]
    cases = [Case(f"zoom={z!r}", partial(zoomed_glimpses, z), (ValueError,), ["zoom"]) for z in bad]
    valid: list[tuple[str, Any]] = [("RAM-MNIST-v0", (0.01, 0.011)), ("RAM-MNIST-v0", (0.01, 28.0))]
    valid += [("RAM-MNIST-v0", (27.9, 28.0)), ("RAM-MNIST-v0", (np.float32(0.5), np.float64(4)))]
    valid += [("RAM-ClutteredMNIST-v0", (0.01, 60.0)), ("RAM-TranslatedMNIST-v0", [1, 2])]
    cases += [
        Case(
            f"{e} zoom={z!r} (valid: finite glimpses)",
            partial(zoomed_glimpses, z, e, True),
            (ValueError,),
            ["zoom"],
        )
        for e, z in valid
    ]
    for z in (np.array([np.nan], np.float32), np.array([np.inf], np.float32), np.zeros(2, np.float32), "x"):

        def bad_action(z: Any = z) -> Any:
            env = gym.make("RAM-MNIST-v0", zoom=(1, 4))
            env.reset(seed=0)
            return env.step({"location": np.zeros(2, np.float32), "label": 0, "zoom": z})

        cases.append(Case(f"action zoom={z!r}", bad_action, (ValueError,), ["zoom"]))
    return cases


def stop_and_cost() -> list[Case]:
    """``allow_stop``/``glimpse_cost`` as numpy scalars: valid ones work, invalid ones are refused."""
    valid: list[tuple[str, Any]] = [
        ("allow_stop", np.bool_(True)),
        ("allow_stop", np.bool_(False)),
        ("glimpse_cost", np.float32(0.01)),
    ]
    valid += [("glimpse_cost", np.float64(0.5)), ("glimpse_cost", np.int64(0)), ("glimpse_cost", np.int32(2))]
    valid += [("glimpse_cost", np.float16(0.1)), ("glimpse_cost", np.uint8(1))]
    invalid: list[tuple[str, Any]] = [
        ("allow_stop", np.int64(1)),
        ("allow_stop", np.float64(1.0)),
        ("allow_stop", np.str_("True")),
    ]
    invalid += [("allow_stop", np.array([True])), ("allow_stop", "yes"), ("glimpse_cost", np.float64(np.nan))]
    invalid += [
        ("glimpse_cost", np.float32(-1)),
        ("glimpse_cost", np.float64(np.inf)),
        ("glimpse_cost", np.float64(1e6)),
    ]
    invalid += [("glimpse_cost", np.array([0.1])), ("glimpse_cost", np.bool_(True)), ("glimpse_cost", np.complex64(1))]
    invalid += [("glimpse_cost", np.str_("0.1")), ("glimpse_cost", np.float64(-0.0) - 1e-300)]
    cases = []
    for env_id in ("RAM-MNIST-v0", "RAM-Glimpse-v0"):
        extra = {"images": np.zeros((10, 8, 8), np.uint8), "labels": np.arange(10) % 2} if "Glimpse" in env_id else {}
        for key, value in valid:
            cases.append(
                Case(f"{env_id} {key}={value!r} (valid)", partial(steps_with, env_id, **{key: value}, **extra), (), [])
            )
        for key, value in invalid:
            kwargs: dict[str, Any] = {key: value, **extra}
            fn = partial(gym.make, env_id, **kwargs)
            cases.append(Case(f"{env_id} {key}={value!r}", fn, (ValueError, TypeError), [key]))
    return cases


def retina_and_render() -> list[Case]:
    """``retina_reduction``, ``render_mode``, ``reset(options=...)`` and ``initial_location`` strings."""
    own = {"images": np.zeros((10, 8, 8), np.uint8), "labels": np.arange(10) % 2}
    envs: dict[str, dict[str, Any]] = {"RAM-MNIST-v0": {}, "RAM-Catch-v0": {}, "RAM-Glimpse-v0": own}
    cases = []
    for env_id, extra in envs.items():
        kwargs: list[tuple[dict[str, Any], str]] = [
            *(
                ({"retina_reduction": r}, "retina_reduction")
                for r in ("min", "MAX", "", None, 1, ["max"], "mean ", b"max")
            ),
            ({"retina_reduction": "max", "scale_factor": 1.5, "n_scales": 2}, "scale_factor"),
            ({"retina_reduction": "max", "scale_factor": 2.5, "n_scales": 3}, "scale_factor"),
            *(
                ({"render_mode": m}, "render_mode")
                for m in (1, "rgb", "RGB_ARRAY", b"rgb_array", ["human"], "rgb_array_lists")
            ),
            *(({"initial_location": s}, "initial_location") for s in ("centre", "Center", "", "random ", "left")),
            *(({"initial_location": s}, "initial_location") for s in ("none\0", b"center", np.bytes_(b"center"))),
        ]
        if env_id != "RAM-Catch-v0":
            kwargs.append(({"retina_reduction": "max", "zoom": (2, 8)}, "zoom"))
        for kw, name in kwargs:
            fn = partial(gym.make, env_id, **kw, **extra)
            cases.append(Case(f"{env_id} {kw!r:.70}", fn, (ValueError, TypeError), [name]))
        for kw in (
            {"retina_reduction": "max", "scale_factor": 2.0, "n_scales": 3},
            {"retina_reduction": np.str_("max")},
        ):
            cases.append(Case(f"{env_id} {kw!r} (valid)", partial(steps_with, env_id, **kw, **extra), (), []))
    modes: tuple[Any, ...] = (1, "human")
    for mode in modes:
        vector = partial(gym.make_vec, "RAM-MNIST-v0", num_envs=2, render_mode=mode)
        cases.append(Case(f"make_vec render_mode={mode!r}", vector, (ValueError,), ["render_mode"]))
    return cases


def reset_options() -> list[Case]:
    makers: dict[str, Callable[[], Any]] = {
        "RAM-MNIST-v0": lambda: gym.make("RAM-MNIST-v0", split="test"),
        "vector RAM-MNIST-v0": lambda: gym.make_vec("RAM-MNIST-v0", num_envs=2, split="test"),
        "RAM-Catch-v0": lambda: gym.make("RAM-Catch-v0"),
    }
    options: list[tuple[Any, str]] = [
        (5, "options"),
        ("x", "options"),
        ([("index", 1)], "options"),
        ((1, 2), "options"),
    ]
    options += [({"initial_location": s}, "initial_location") for s in ("centre", "", "left", b"none")]
    options += [({"index": 1.5}, "index"), ({"index": True}, "index"), ({"index": np.nan}, "index")]
    cases = []
    for label, make in makers.items():
        for value, name in options:
            fn = lambda m=make, v=value: m().reset(seed=0, options=v)  # noqa: E731
            cases.append(Case(f"{label} reset(options={value!r})", fn, (ValueError, TypeError), [name]))
    return cases


def extension_keywords() -> list[Case]:
    return [*zoom_ranges(), *stop_and_cost(), *retina_and_render(), *reset_options()]


def seeded_indices(make: Callable[[], Any], seeds: list[int | None]) -> list[int]:
    env = make()
    return [int(env.reset(seed=s)[1]["index"]) for s in seeds]


def vector_indices(env_id: str, n: int, seed: int, **kwargs: Any) -> list[int]:
    return gym.make_vec(env_id, num_envs=n, **kwargs).reset(seed=seed)[1]["index"].tolist()


def same_first_observation(env_id: str, a: int, b: int, **kwargs: Any) -> bool:
    """Do ``reset(seed=a)`` and ``reset(seed=b)`` give the same first observation (every key)?"""
    first = [gym.make(env_id, **kwargs).reset(seed=s)[0] for s in (a, b)]
    return all(np.array_equal(first[0][k], first[1][k]) for k in first[0])


def seeding() -> list[Case]:
    """The seed names the episode on the fixed splits (silent-wrong checks)."""
    own: dict[str, Any] = {"images": np.random.default_rng(0).integers(0, 256, (90, 8, 8), dtype=np.uint8)}
    own["labels"] = np.arange(90) % 3  # 9 test images
    test: dict[str, Any] = {"split": "test"}
    checks: dict[str, Callable[[], bool]] = {
        "RAM-MNIST-v0 test: reset(seed=i) plays image i": lambda: (
            seeded_indices(lambda: gym.make("RAM-MNIST-v0", **test), [0, 1, 2, 3, 4]) == [0, 1, 2, 3, 4]
        ),
        "RAM-MNIST-v0 validation: reset(seed=i) plays image i": lambda: (
            seeded_indices(lambda: gym.make("RAM-MNIST-v0", split="validation"), [0, 1, 2, 3, 4]) == [0, 1, 2, 3, 4]
        ),
        "RAM-ClutteredMNIST-v0 test: reset(seed=i) plays image i": lambda: (
            seeded_indices(lambda: gym.make("RAM-ClutteredMNIST-v0", **test), [0, 1, 2, 3, 4]) == [0, 1, 2, 3, 4]
        ),
        "RAM-Glimpse-v0 test: reset(seed=i) plays image i mod N": lambda: (
            seeded_indices(lambda: gym.make("RAM-Glimpse-v0", **own, **test), [0, 1, 2, 3, 4, 11]) == [0, 1, 2, 3, 4, 2]
        ),
        "RAM-MNIST-v0 test: unseeded resets go on from the seed": lambda: (
            seeded_indices(lambda: gym.make("RAM-MNIST-v0", **test), [3, None, None]) == [3, 4, 5]
        ),
        "vector RAM-MNIST-v0 test reset(seed=7): env i plays 7 + i": lambda: (
            vector_indices("RAM-MNIST-v0", 4, 7, **test) == [7, 8, 9, 10]
        ),
        "vector RAM-Glimpse-v0 test reset(seed=2): env i plays 2 + i": lambda: (
            vector_indices("RAM-Glimpse-v0", 3, 2, **own, **test) == [2, 3, 4]
        ),
        "vector rollouts_per_image=2 reset(seed=5): group j plays 5 + j": lambda: (
            vector_indices("RAM-MNIST-v0", 4, 5, rollouts_per_image=2, **test) == [5, 5, 6, 6]
        ),
        "RAM-MNIST-v0 train: one seed, one episode": lambda: same_first_observation("RAM-MNIST-v0", 5, 5),
        "RAM-MNIST-v0 train: two seeds, two episodes": lambda: not same_first_observation("RAM-MNIST-v0", 5, 6),
        "RAM-Catch-v0: one seed, one episode": lambda: same_first_observation("RAM-Catch-v0", 5, 5),
    }
    return [Case(name, partial(right_or_silent, check), (), []) for name, check in checks.items()]


def right_or_silent(check: Callable[[], bool]) -> Verdict:
    return Verdict("clear" if check() else "silent")


def train_argv(out: Path, *extra: str) -> list[str]:
    quiet = ["--no-progress", "--no-tensorboard", "--num-envs", "8", "--steps", "96", "--threads", "1"]
    return ["train", "--env", "RAM-MNIST-v0", *quiet, "--out", str(out), *extra]


def refused_before_training(argv: list[str], out: Path) -> Callable[[], Any]:
    """``ram argv``'s exit code, or silent if it trained first (a progress.csv or checkpoint in ``out``)."""

    def run() -> Any:
        code = cli.main(argv)
        trained = (out / "progress.csv").exists() or (out / "checkpoint.pt").exists()
        return Verdict("silent") if trained else code

    return run


def train_settings(tmp: Path) -> list[Case]:
    """``ram train`` hyper-parameters and options that must be refused before any training."""
    settings = {
        "--set entropy_coef=.nan": (["--set", "entropy_coef=.nan"], "entropy_coef"),
        "--set entropy_coef=.inf": (["--set", "entropy_coef=.inf"], "entropy_coef"),
        "--set learning_rate=-.inf": (["--set", "learning_rate=-.inf"], "learning_rate"),
        "--set learning_rate=.nan": (["--set", "learning_rate=.nan"], "learning_rate"),
        "--set supervised=maybe": (["--set", "supervised=maybe"], "supervised"),
        "--set location_std=-1": (["--set", "location_std=-1"], "location_std"),
        "--set gamma=.nan": (["--set", "gamma=.nan"], "gamma"),
        "--set max_grad_norm=-.inf": (["--set", "max_grad_norm=-.inf"], "max_grad_norm"),
        "--num-envs 0": (["--num-envs", "0"], "num_envs"),
        "--eval-episodes 10**9": (["--eval-episodes", str(10**9)], "episodes"),
        "--eval-episodes -3": (["--eval-episodes", "-3"], "episodes"),
        "--env-arg zoom=[0, 1]": (["--env-arg", "zoom=[0, 1]"], "zoom"),
        "--env-arg retina_reduction=min": (["--env-arg", "retina_reduction=min"], "retina_reduction"),
    }
    cases = []
    for k, (name, (extra, field)) in enumerate(settings.items()):
        out = tmp / f"hp{k}"
        eval_episodes = [] if "--eval-episodes" in extra else ["--eval-episodes", "0"]
        fn = refused_before_training(train_argv(out, *eval_episodes, *extra), out)
        cases.append(Case(f"ram train {name}", fn, (SystemExit,), [field], seconds=60.0))
    return cases


PLUGIN = """
import json
from pathlib import Path

import numpy as np

FAULT = {fault!r}
if FAULT == "import":
    raise RuntimeError("this plug-in cannot be imported:\\nsays line two")


class Agent:
    track = "rl"
    default_steps = 120

    def __init__(self, env_id, seed=0, env_kwargs=None):
        if FAULT == "init":
            raise RuntimeError("no GPU here:\\nsays line two")
        self.env_id, self.seed, self.env_kwargs = env_id, seed, dict(env_kwargs or {{}})
        self.num_timesteps = 0

    def learn(self, total_timesteps, callback=None, reset_num_timesteps=True):
        if FAULT == "learn":
            raise RuntimeError("learn failed")
        while FAULT != "idle" and self.num_timesteps < total_timesteps:
            self.num_timesteps += 60
            if callback is not None and callback({{"env_steps": self.num_timesteps, "reward": 0.0}}) is False:
                break
        return self

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        n = np.shape(observation["location"])[0]
        action = {{"location": np.zeros((n, 2), np.float32), "label": np.zeros(n, np.int64)}}
        if FAULT == "predict-raises":
            raise KeyError("glimpse")
        if FAULT == "predict-none":
            return None
        if FAULT == "shape":
            action["location"] = np.zeros((n, 3), np.float32)
        if FAULT == "unbatched":
            action["location"] = np.zeros(2, np.float32)
        if FAULT == "nan":
            action["location"][:] = np.nan
        if FAULT == "labels-shape":
            action["label"] = np.zeros((n, 2), np.int64)
        return action, state

    def save(self, path, extra=None):
        Path(path).write_text(json.dumps({{"env_id": self.env_id, "seed": self.seed}}))
        return Path(path)

    @classmethod
    def load(cls, path, env_id=None):
        if FAULT == "load-none":
            return None
        if FAULT == "load-raises":
            raise KeyError("weights")
        data = json.loads(Path(path).read_text())
        return cls(data["env_id"], data["seed"])
"""


def in_process(argv: list[str]) -> Callable[[], Any]:
    """``ram argv`` in this process, its plug-ins forgotten afterwards."""

    def run() -> Any:
        with isolated("rel_plugin"):
            return cli.main(argv)

    return run


def plugins(tmp: Path) -> list[Case]:
    """Plug-in agents (``--algo module:Class``) that break the contract: exit 2, one line naming them."""
    folder = tmp / "plugins"
    folder.mkdir()
    sys.path.insert(0, str(folder))  # as PYTHONPATH would put it
    sources = {fault: PLUGIN.format(fault=fault) for fault in ("import", "init", "learn", "idle", "no-such-class")}
    sources |= {f: PLUGIN.format(fault=f) for f in ("predict-raises", "predict-none", "shape", "unbatched", "nan")}
    sources |= {f: PLUGIN.format(fault=f) for f in ("labels-shape", "load-none", "load-raises")}
    sources |= {"syntax": "def broken(:\n", "not-a-class": "Agent = 3\n", "no-class": "x = 1\n"}
    sources |= {"exits": "import sys\nsys.exit(3)\n"}
    for fault, source in sources.items():
        (folder / f"rel_plugin_{fault.replace('-', '_')}.py").write_text(source)
    saved = tmp / "plugin-agent.json"
    saved.write_text(json.dumps({"env_id": "RAM-MNIST-v0", "seed": 0}))
    cases = []
    for fault in sources:
        module = f"rel_plugin_{fault.replace('-', '_')}"
        if fault in ("load-none", "load-raises"):
            argv = ["eval", str(saved), "--algo", f"{module}:Agent", "--episodes", "10"]
        else:
            argv = ["train", "--algo", f"{module}:Agent", "--env", "RAM-MNIST-v0", "--steps", "120"]
            argv += ["--out", str(tmp / f"run-{fault}"), "--no-progress", "--no-tensorboard", "--eval-episodes", "10"]
        if fault == "no-such-class":
            argv[argv.index("--algo") + 1] = f"{module}:Nope"
        cases.append(Case(f"plug-in {fault}", in_process(argv), (SystemExit,), [module], seconds=60.0))
    for spec in ("rel_plugin_missing:Agent", "rel_plugin_idle:", ":Agent", "rel_plugin_idle:Agent.learn"):
        argv = ["train", "--algo", spec, "--env", "RAM-MNIST-v0", "--out", str(tmp / "run-spec"), "--no-progress"]
        cases.append(Case(f"plug-in named {spec!r}", in_process(argv), (SystemExit,), [spec or "algo"]))
    return cases


PLANTED = """
from pathlib import Path

Path({marker!r}).write_text("imported")


class Agent:
    track = "rl"
"""


def planted_run(tmp: Path, marker: Path) -> Path:
    """A finished RAM run whose ``config.json`` names ``planted_module:Agent`` as its algorithm;
    ``planted_module`` (on sys.path) writes ``marker`` when imported."""
    folder = tmp / "planted"
    folder.mkdir()
    (folder / "planted_module.py").write_text(PLANTED.format(marker=str(marker)))
    sys.path.insert(0, str(folder))
    run = tmp / "run"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main([*train_argv(run, "--eval-episodes", "0", "--checkpoint-every", "1")]) == 0
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "algo": "planted_module:Agent"}))
    (tmp / "same.yaml").write_text(f"num_envs: {config['config']['num_envs']}\n")
    return run


def with_planted_checkpoint(run: Path) -> Path:
    """A copy of ``run`` whose checkpoint, too, names ``planted_module:Agent`` (a valid digest)."""
    copy = run.with_name(run.name + "-checkpoint")
    shutil.copytree(run, copy)
    data = torch.load(copy / "checkpoint.pt", weights_only=True)
    data["algo"] = "planted_module:Agent"
    data.pop("digest", None)
    data["digest"] = digest(data)
    torch.save(data, copy / "checkpoint.pt")
    return copy


def resumed_or_refused(argv: list[str], run: Path) -> Callable[[], Any]:
    """``ram argv`` on a fresh copy of ``run``: resuming by the checkpoint's own algorithm (exit
    0) is as right as a refusal naming the planted module; importing it is code-run."""

    def probe() -> Any:
        copy = run.with_name(f"{run.name}-{time.monotonic_ns()}")
        shutil.copytree(run, copy)
        with isolated("planted_module"):
            code = cli.main([a.replace(str(run), str(copy)) for a in argv])
        return Verdict("clear") if code == 0 else code

    return probe


def code_from_files(tmp: Path) -> list[Case]:
    """``ram train --resume`` (and eval, show) on runs whose files name a planted module."""
    tmp.mkdir()
    marker = tmp / "imported.marker"
    run = planted_run(tmp, marker)
    planted = with_planted_checkpoint(run)
    resume = ["train", "--env", "RAM-MNIST-v0", "--no-progress", "--no-tensorboard", "--eval-episodes", "0"]
    flags = {
        "no flags": [],
        "--set num_envs=8": ["--set", "num_envs=8"],
        "--set learning_rate=0.5 (a change)": ["--set", "learning_rate=0.5"],
        "--config (same settings)": ["--config", str(tmp / "same.yaml")],
        "--env-arg n_glimpses=6": ["--env-arg", "n_glimpses=6"],
        "--num-envs 8": ["--num-envs", "8"],
        "--seed 0": ["--seed", "0"],
        "--steps 192": ["--steps", "192"],
        "--algo ram --set num_envs=8": ["--algo", "ram", "--set", "num_envs=8"],
    }
    cases = []
    for where, base in (("config.json names it", run), ("config.json and checkpoint name it", planted)):
        for name, extra in flags.items():
            argv = [*resume, "--out", str(base), "--resume", *extra]
            fn = resumed_or_refused(argv, base)
            cases.append(Case(f"{where}: --resume {name}", fn, (SystemExit,), ["planted_module"], marker, 60.0))
    show = ["show", str(planted / "checkpoint.pt"), "--out", str(tmp / "show.png")]
    for command in (["eval", str(planted / "checkpoint.pt"), "--episodes", "10"], show):
        fn = resumed_or_refused(command, planted)
        cases.append(
            Case(f"checkpoint names it: ram {command[0]}", fn, (SystemExit,), ["planted_module"], marker, 60.0)
        )
    argv = [*resume, "--out", str(run), "--resume", "--set", "num_envs=8"]
    fn = lambda: in_subprocess(argv, {"PYTHONPATH": str(tmp / "planted")})  # noqa: E731
    cases.append(Case("config.json names it: --resume --set, PYTHONPATH", fn, (), ["planted_module"], marker, 120.0))
    return cases


def in_subprocess(argv: list[str], env: dict[str, str], timeout: float = 100.0) -> Any:
    """``python -m agents.cli argv``'s exit code, its stderr copied to ours (hang: a Verdict)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "agents.cli", *argv],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Verdict("hang")
    sys.stderr.write(done.stderr)
    return Verdict("clear") if done.returncode == 0 else done.returncode


SWEEP = """
name: reliability
algos: [ram]
envs: [RAM-MNIST-v0]
seeds: {seeds}
steps: {steps}
eval_episodes: 20
hparams: {{ram: {{num_envs: 8, hidden_size: 32}}}}
"""


def bench(sweep: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "agents.cli", "bench", str(sweep), "--out", str(out), "--threads", "1", *extra]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SDL_VIDEODRIVER": "dummy"}
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def statuses(out: Path) -> list[str]:
    import csv

    if not (out / "results.csv").exists():
        return []
    with open(out / "results.csv", newline="") as f:
        return [row["status"] for row in csv.DictReader(f)]


def waited(process: subprocess.Popen[str], timeout: float) -> tuple[int | None, str]:
    """``(exit code, stderr)``; ``None`` (and the process killed) after ``timeout`` seconds."""
    try:
        _, err = process.communicate(timeout=timeout)
        return process.returncode, err
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None, ""


def second_sweep_while_the_first_runs(tmp: Path) -> Any:
    """A ``ram bench`` on an ``--out`` another one is running in: refused in one line (here,
    in this process: no start-up delay), the first's results.csv whole."""
    sweep, out = tmp / "sweep.yaml", tmp / "busy"
    sweep.write_text(SWEEP.format(seeds="[0]", steps=1536))
    first = bench(sweep, out)
    try:
        deadline = time.monotonic() + 120
        while "pid" not in ((out / ".lock").read_text() if (out / ".lock").exists() else ""):
            if first.poll() is not None or time.monotonic() > deadline:
                return Verdict("hang" if first.poll() is None else "unclear")  # the first never started
            time.sleep(0.05)
        code = cli.main(["bench", str(sweep), "--out", str(out)])
        inconclusive = first.poll() is not None
        first_code, _ = waited(first, 300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    if first_code is None:
        return Verdict("hang")
    if first_code != 0 or statuses(out) != ["ok"]:
        return Verdict("silent")  # the first sweep was harmed
    return Verdict("unclear") if inconclusive and code == 0 else code


def two_sweeps_at_once(tmp: Path) -> Verdict:
    """Two ``ram bench`` started together on one ``--out``: exactly one runs, the other is
    refused in one line naming the directory, and the results are whole."""
    sweep, out = tmp / "sweep.yaml", tmp / "together"
    sweep.write_text(SWEEP.format(seeds="[0]", steps=1536))
    processes = [bench(sweep, out), bench(sweep, out)]
    ended = [waited(p, 300) for p in processes]
    codes = sorted(code for code, _ in ended if code is not None)
    if len(codes) < 2:
        return Verdict("hang")
    refusals = [err for code, err in ended if code == 2]
    print(f"exit codes {codes}; refused with: {' '.join(refusals)}", file=sys.stderr)
    if codes == [0, 0] or statuses(out) != ["ok"]:
        return Verdict("silent")
    if codes != [0, 2] or len(refusals[0].strip().splitlines()) != 1 or str(out) not in refusals[0]:
        return Verdict("unclear")
    return Verdict("clear")


def sweeps(tmp: Path) -> list[Case]:
    tmp.mkdir()
    return [
        Case(
            "second ram bench on a busy --out",
            lambda: second_sweep_while_the_first_runs(tmp),
            (),
            [str(tmp)],
            None,
            600.0,
        ),
        Case("two ram bench on one --out at once", lambda: two_sweeps_at_once(tmp), (), [], None, 600.0),
    ]


def sweep_kills(tmp: Path) -> list[Case]:
    tmp.mkdir()
    return [Case("SIGKILL the driver of ram bench --jobs 2", lambda: sweep_kill(tmp), (), [], None, 1200.0)]


def sweep_kill(tmp: Path) -> Verdict:
    """SIGKILL the driver of ``ram bench --jobs 2`` mid-training: each run keeps a checkpoint
    (its worker saves once, orphaned), and a re-run resumes both from there."""
    import fcntl

    sweep, out = tmp / "sweep.yaml", tmp / "killed"
    sweep.write_text(SWEEP.format(seeds="[0, 1]", steps=4800))
    driver = bench(sweep, out, "--jobs", "2")
    deadline = time.monotonic() + 300
    while len([p for p in out.glob("runs/*/progress.csv") if len(p.read_text().splitlines()) > 3]) < 2:
        if driver.poll() is not None or time.monotonic() > deadline:
            waited(driver, 1)
            return Verdict("hang" if time.monotonic() > deadline else "unclear")
        time.sleep(0.1)
    driver.kill()
    driver.communicate()
    with open(out / ".lock") as lock:  # the workers hold it until they have saved and ended
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return Verdict("hang")
                time.sleep(0.1)
    runs = sorted(p for p in (out / "runs").iterdir() if p.is_dir())
    if len(runs) != 2 or not all((r / "checkpoint.pt").exists() for r in runs):
        return Verdict("silent")  # a killed sweep lost a run's training
    again, _ = waited(bench(sweep, out, "--jobs", "2"), 600)
    results = [json.loads((r / "result.json").read_text()) for r in runs]
    resumed = all(r.get("status") == "ok" and r.get("resumed_from", 0) > 0 for r in results)
    print(f"re-run: exit {again}, {[(r.get('status'), r.get('resumed_from')) for r in results]}", file=sys.stderr)
    return Verdict("hang" if again is None else "clear" if again == 0 and resumed else "silent")


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


def areas(tmp: Path) -> dict[str, Callable[[], list[Any]]]:
    """Each area's probes (:class:`Case` s or tuples of its first four fields), made when the area runs."""

    def checkpoint_files() -> list[Any]:
        (tmp / "ckpt").mkdir()
        return checkpoints(tmp / "ckpt")

    return {
        "env keywords": env_keywords,
        "actions": actions,
        "reset seeds and options": resets,
        "glimpse sensor": sensor_inputs,
        "checkpoint files": checkpoint_files,
        "YAML and sweep files": lambda: yaml_files(tmp),
        "ram arguments": lambda: cli_arguments(tmp),
        "own images": lambda: own_images_area(tmp / "images"),
        "extension env keywords": extension_keywords,
        "seeding": seeding,
        "ram train hyper-parameters": lambda: train_settings(tmp),
        "plug-in agents": lambda: plugins(tmp),
        "code named by a run's files": lambda: code_from_files(tmp / "code"),
        "sweeps": lambda: sweeps(tmp / "sweeps"),
    }


def run_areas(
    builders: dict[str, Callable[[], list[Any]]], verbose: bool = False
) -> tuple[list[tuple[Any, ...]], list[str]]:
    """``(rows of the table, the non-clear cases)``; each area's time is printed (to stderr) as
    it ends, and with ``verbose`` every case's outcome and what it said."""
    rows, problems = [], []
    for area, build in builders.items():
        started = time.perf_counter()
        counts: Counter[str] = Counter()
        cases = [Case(*c) for c in build()]
        for case in cases:
            said: list[str] = []
            result = classify(case, said)
            counts[result] += 1
            told = " ".join(" ".join(said).split())[:300]
            if result != "clear":
                problems.append(f"{area}: {case.name}: {result} ({told})")
            if verbose:
                print(f"[{result}] {area}: {case.name}: {told}", file=sys.stderr)
        rows.append((area, len(cases), *(counts[o] for o in OUTCOMES)))
        print(f"{area}: {len(cases)} cases in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return rows, problems


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=0, help="kills per signal (0: skip)")
    parser.add_argument("--soak", type=int, default=0, help="vector-env steps of the soak (0: skip)")
    parser.add_argument("--area", action="append", help="only the areas whose name contains this (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="print every case's outcome and message")
    parser.add_argument("--sweep-kills", action="store_true", help="also SIGKILL a `ram bench --jobs 2` and resume it")
    options = parser.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "junk.pt").write_bytes(b"junk")
        builders = areas(tmp)
        chosen = {k: v for k, v in builders.items() if not options.area or any(a in k for a in options.area)}
        if options.sweep_kills:
            chosen["sweep kills"] = lambda: sweep_kills(tmp / "kill")
        if not chosen:
            parser.error(f"--area {options.area} matches none of: {', '.join(builders)}")
        rows, problems = run_areas(chosen, options.verbose)
    print("| area | cases | clear error | unclear error | silent | hang | code run |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(v) for v in row) + " |")
    total = [sum(r[i] for r in rows) for i in range(1, 2 + len(OUTCOMES))]
    print("| **all** | " + " | ".join(str(v) for v in total) + " |")
    print(f"\n{total[0]} cases in {time.perf_counter() - started:.0f} s")
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
