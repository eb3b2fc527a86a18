"""`ram bench --executor ray`: a local Ray cluster gives the same result rows as the local
executor with the same seeds, keeps resume and failure recording (CI installs ram-gym[ray])."""

from __future__ import annotations

import json

import pytest

from agents.bench import load_sweep, run_sweep

ray = pytest.importorskip("ray")

SWEEP = """
name: ray-tiny
algos: [ram]
envs: [RAM-MNIST-v0]
seeds: [0, 1]
steps: 1536
eval_episodes: 100
hparams: {ram: {num_envs: 32}}
"""


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_executor_matches_the_local_one(tmp_path, local_ray):
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP)
    config = load_sweep(path)
    local = run_sweep(config, tmp_path / "local", jobs=2, log=lambda *_: None)  # 1 thread per run, as on Ray
    remote = run_sweep(config, tmp_path / "ray", executor="ray", cpus_per_run=1, log=lambda *_: None)
    keys = ("run", "status", "score", "env_steps", "eval_episodes")
    assert [{k: r[k] for k in keys} for r in remote] == [{k: r[k] for k in keys} for r in local]
    assert all(r["status"] == "ok" and r["track"] == "privileged" for r in remote)
    assert (tmp_path / "ray" / "results.md").exists() and (tmp_path / "ray" / "curves.png").exists()
    for r in remote:  # every result says where it came from
        saved = json.loads((tmp_path / "ray" / "runs" / r["run"] / "result.json").read_text())
        assert saved["provenance"]["versions"]["torch"] and saved["provenance"]["machine"]["cores"]
    logged = []
    run_sweep(config, tmp_path / "ray", executor="ray", log=logged.append)  # resume: nothing left to run
    assert "2 already finished, 0 to run" in logged[0]


def test_a_failing_ray_run_is_recorded_and_a_plugin_runs_on_the_workers(tmp_path, local_ray):
    path = tmp_path / "sweep.yaml"
    path.write_text(
        SWEEP.replace("algos: [ram]", "algos: [plugin_agents:Guesser]").replace("hparams: {ram: {num_envs: 32}}", "")
    )
    results = run_sweep(load_sweep(path), tmp_path / "out", executor="ray", log=lambda *_: None)
    assert [r["status"] for r in results] == ["ok", "failed"]
    assert "asked to fail on seed 1" in results[1]["error"] and "Traceback" in results[1]["traceback"]
    assert results[0]["score"] == pytest.approx(0.1, abs=0.05)  # always "3": about a tenth right
