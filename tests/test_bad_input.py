"""Bad input, one case per cause (issue 18): each asserts the exception type and that the
message names the problem - never a raw error, a silent wrong answer, a hang, or an import."""

from __future__ import annotations

import sys
import time

import gymnasium as gym
import numpy as np
import pytest
import torch

import ram_env
from agents.checkpoint import CheckpointError, digest, load_checkpoint
from agents.ram import RAM
from agents.yamlfile import YamlFileError, load_mapping
from ram_env import GlimpseSensor, InvalidAction, MnistDataError


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "ram.pt"
    agent = RAM("RAM-MNIST-v0", seed=0, num_envs=8).learn(96)
    agent.save(path)
    return path


def rewrite(src, dst, mutate, keep_digest=False):
    """Load ``src``'s raw dict, ``mutate`` it, write it to ``dst`` with a fresh digest (so the
    schema check, not the digest, is what has to catch it) unless ``keep_digest``."""
    data = torch.load(src, weights_only=True)
    mutate(data)
    if not keep_digest:
        data.pop("digest")
        data["digest"] = digest(data)
    torch.save(data, dst)
    return dst


# ---------------------------------------------------------------- checkpoints: nothing runs on load
def test_a_checkpoint_naming_a_module_is_refused_without_importing_it(saved, tmp_path, monkeypatch):
    marker = tmp_path / "ran.txt"
    (tmp_path / "evilmodule.py").write_text(f"open({str(marker)!r}, 'w').write('code ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for env_id in ("evilmodule:RAM-MNIST-v0", "this:Nope", "RAM-Nope-v0", 42):
        path = rewrite(saved, tmp_path / "bad.pt", lambda d, e=env_id: d.update(env_id=e))
        with pytest.raises(CheckpointError, match="env_id .* not a registered environment id"):
            RAM.load(path)
    assert not marker.exists() and "evilmodule" not in sys.modules and "this" not in sys.modules


def test_a_flipped_byte_or_an_edited_field_is_caught_by_the_digest(saved, tmp_path):
    raw = bytearray(saved.read_bytes())
    weight = RAM.load(saved).policy.glimpse_network.what.weight.detach().numpy().tobytes()
    at = raw.find(weight[:64])
    assert at > 0
    raw[at + 10] ^= 0x01  # one bit inside a weight tensor: torch loads it happily
    (tmp_path / "flipped.pt").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="does not match its digest"):
        RAM.load(tmp_path / "flipped.pt")
    edited = rewrite(saved, tmp_path / "edited.pt", lambda d: d["config"].update(location_std=0.5), keep_digest=True)
    with pytest.raises(CheckpointError, match="does not match its digest"):
        RAM.load(edited)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format_version="2"), "field format_version must be int"),
        (lambda d: d.update(config=[1, 2]), "field config must be dict"),
        (lambda d: d["config"].update(hidden_size=-5), r"hidden_size.*must be in \[1, 16384\]"),
        (lambda d: d["config"].update(hidden_size=10**9), r"hidden_size.*must be in \[1, 16384\]"),
        (lambda d: d["config"].update(hidden_size="256"), "hidden_size must be of type int"),
        (lambda d: d["progress"].update(num_timesteps=-3), "field progress.num_timesteps must be int >= 0"),
        (lambda d: d.update(rng={"torch": torch.zeros(3)}), "field rng.torch is not a torch generator state"),
        (lambda d: d.update(rng={"torch": torch.get_rng_state(), "envs": "x"}), "field rng.envs"),
        (lambda d: d.update(optimizer={"state": {}, "param_groups": [{"params": [0]}]}), "field optimizer"),
        (lambda d: d["model"].pop("core_network.input_to_hidden.weight"), "field model"),
        (lambda d: d.update(model="weights"), "field model must be dict"),
    ],
)
def test_malformed_fields_name_the_field(saved, tmp_path, mutate, message):
    with pytest.raises(CheckpointError, match=message):
        RAM.load(rewrite(saved, tmp_path / "bad.pt", mutate))


def test_a_foreign_optimizer_state_is_refused(saved, tmp_path):
    other = RAM("RAM-MNIST-v0", seed=0, num_envs=8, hidden_size=64).learn(96)
    foreign = other.optimizer.state_dict()
    with pytest.raises(CheckpointError, match="field optimizer does not fit"):
        RAM.load(rewrite(saved, tmp_path / "bad.pt", lambda d: d.update(optimizer=foreign)))


def test_version_1_checkpoints_without_digest_still_load(saved, tmp_path):
    def old(d):
        d.pop("digest")
        d["format_version"] = 1

    data = torch.load(saved, weights_only=True)
    old(data)
    torch.save(data, tmp_path / "v1.pt")
    assert load_checkpoint(tmp_path / "v1.pt")["algo"] == "ram"


def test_a_full_disk_names_the_cause_and_keeps_the_old_checkpoint(saved, tmp_path, monkeypatch):
    import errno

    agent = RAM.load(saved)
    target = agent.save(tmp_path / "keep.pt")
    before = target.read_bytes()

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", no_space)
    with pytest.raises(CheckpointError, match="disk is full.*previous checkpoint is kept"):
        agent.save(target)
    assert target.read_bytes() == before and not list(tmp_path.glob("*.tmp"))


# ---------------------------------------------------------------- YAML
def test_yaml_aliases_duplicates_size_and_encoding_are_refused(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    (tmp_path / "bomb.yaml").write_text(bomb)
    started = time.perf_counter()
    with pytest.raises(YamlFileError, match="aliases"):
        load_mapping(tmp_path / "bomb.yaml")
    assert time.perf_counter() - started < 1.0
    (tmp_path / "big.yaml").write_text("k: &k " + "x" * 5_000_000 + "\n" + "".join(f"v{i}: *k\n" for i in range(200)))
    with pytest.raises(YamlFileError, match="too large"):
        load_mapping(tmp_path / "big.yaml")
    (tmp_path / "dup.yaml").write_text("learning_rate: 1\nlearning_rate: 2\n")
    with pytest.raises(YamlFileError, match="duplicate key 'learning_rate'"):
        load_mapping(tmp_path / "dup.yaml")
    (tmp_path / "latin.yaml").write_bytes(b"name: caf\xe9\n")
    with pytest.raises(YamlFileError, match="not UTF-8"):
        load_mapping(tmp_path / "latin.yaml")


# ---------------------------------------------------------------- environments and the sensor
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_scales": 12}, "largest patch would be 16,384 pixels"),
        ({"n_scales": 8}, "more than 4 times the 28x28 image"),
        ({"scale_factor": 2 + 1j}, "scale_factor must be a finite real number"),
        ({"scale_factor": 1e9, "n_scales": 2}, "largest patch"),
        ({"canvas_size": 10**6}, "canvas_size must be <= 4096"),
        ({"n_distractors": 10**9}, "n_distractors must be <= 1000"),
    ],
)
def test_env_keywords_are_bounded_up_front(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make("RAM-MNIST-v0", **kwargs)


def test_vector_env_bad_sizes_and_seeds():
    with pytest.raises(ValueError, match=r"num_envs=1,000,000,000 .* GiB"):
        gym.make_vec("RAM-MNIST-v0", num_envs=10**9)
    with pytest.raises(ValueError, match="more than half"):
        gym.make_vec("RAM-ClutteredMNIST100-v0", num_envs=10**7)
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=4)
    with pytest.raises(TypeError, match="seed must be an int, a sequence of 4 ints or None, got '1234'"):
        vec.reset(seed="1234")
    vec = gym.make_vec("RAM-MNIST-v0", num_envs=256)
    vec.reset(seed=0)
    location = np.zeros((256, 2), np.float32)
    location[100] = np.nan
    with pytest.raises(InvalidAction, match=r"env 100 of 256 has \[nan, nan\]") as info:
        vec.step({"location": location, "label": np.zeros(256, int)})
    assert len(str(info.value)) < 200
    with pytest.raises(InvalidAction, match=r"env 7 of 256 has 12"):
        labels = np.zeros(256, int)
        labels[7] = 12
        vec.step({"location": np.zeros((256, 2), np.float32), "label": labels})


def test_sensor_dtypes_and_ranges():
    sensor = GlimpseSensor(4, 2)
    near = np.full((1, 8, 8), 2**62, dtype=np.int64)
    with pytest.raises(ValueError, match="would overflow the sensor's running sums"):
        sensor(near[0], np.zeros(2))
    with pytest.raises(ValueError, match=r"\|values\| <= 1e\+12"):
        sensor(np.full((8, 8), 1e308), np.zeros(2))
    with pytest.raises(ValueError, match="real float"):
        sensor(np.ones((8, 8), dtype=complex), np.zeros(2))
    small = np.arange(64, dtype=np.int64).reshape(8, 8)  # 64-bit ints with small values are fine
    np.testing.assert_allclose(sensor(small, np.zeros(2)), sensor(small.astype(np.float64), np.zeros(2)))


def test_an_oversized_mnist_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from ram_env import mnist

    for name in mnist.MNIST_SHA256:
        (tmp_path / name).symlink_to(mnist.data_directory() / name)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.truncate(2**30)  # a sparse 1 GiB file
    mnist._load_cached.cache_clear()
    started = time.perf_counter()
    with pytest.raises(MnistDataError, match="has 1,073,741,824 bytes, expected 1,616,508"):
        mnist.load_mnist("t10k", tmp_path)
    assert time.perf_counter() - started < 0.5
    mnist._load_cached.cache_clear()


# ---------------------------------------------------------------- the ram command: one line, exit code 2
def test_cli_messages(tmp_path, cli_error, monkeypatch):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_bytes(b"name: \xff\xfe\n")
    assert "not UTF-8" in cli_error(["bench", str(sweep)])
    out = tmp_path / "run"
    assert "not valid YAML" in cli_error(
        ["train", "--env", "RAM-MNIST-v0", "--out", str(out), "--set", "learning_rate=["]
    )
    assert "--checkpoint-every must be >= 1" in cli_error(
        ["train", "--env", "RAM-MNIST-v0", "--out", str(out), "--checkpoint-every", "0"]
    )
    assert "--steps must be a positive number" in cli_error(
        ["train", "--env", "RAM-MNIST-v0", "--out", str(out), "--steps", "-5"]
    )
    assert not out.exists()  # nothing written for a refused command
    message = cli_error(["train", "--env", "RAM-Foo-v0", "--out", str(out)])
    assert "unknown environment 'RAM-Foo-v0'" in message and "RAM-ClutteredMNIST-v0" in message
    monkeypatch.setenv("RAM_GYM_MNIST_DIR", str(tmp_path / "nowhere"))
    from ram_env import mnist

    mnist._load_cached.cache_clear()
    assert "MNIST file missing" in cli_error(["train", "--env", "RAM-MNIST-v0", "--out", str(tmp_path / "m")])
    mnist._load_cached.cache_clear()


def test_ram_env_public_surface_refuses_foreign_envs():
    with pytest.raises(TypeError, match="not a ram-gym environment"):
        ram_env.glimpse_sensor(gym.make("CartPole-v1"))
