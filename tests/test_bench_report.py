"""The sweep report as a protocol to cite (rliable, Agarwal et al. 2021): the IQM over seeds
with a 95% stratified-bootstrap interval beside mean ± std, seeds, budget and chance level in
the table; the probability-of-improvement picture; a table without rliable rather than a crash;
the committed reference tables made from their results.csv alone."""

from __future__ import annotations

import csv
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agents import cli
from agents.bench import merge_tables
from agents.sweep import stats

REPO = Path(__file__).resolve().parents[1]
COLUMNS = ["run", "algo", "track", "env_id", "seed", "status", "score", "steps", "env_steps", "train_seconds"]


def write_results(directory: Path, rows: list[tuple[str, str, str, list[float]]], budget: int | None = 1000) -> Path:
    """A hand-made ``results.csv``: one ok run per score, ``(algo, track, env_id, scores)`` per group."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS if budget else [c for c in COLUMNS if c != "steps"])
        writer.writeheader()
        for algo, track, env_id, scores in rows:
            for seed, score in enumerate(scores):
                row = {"run": f"{algo}-{env_id}-s{seed}", "algo": algo, "track": track, "env_id": env_id}
                row.update(seed=seed, status="ok", score=score, env_steps=1024, train_seconds=1.0)
                writer.writerow({**row, "steps": budget} if budget else row)
    return directory


def table_row(md: str, env_id: str, algo: str) -> list[str]:
    """The cells of the table row of ``algo`` on ``env_id``."""
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 3 and cells[0] == env_id and cells[2] == algo:
            return cells
    raise AssertionError(f"no row for {algo} on {env_id} in\n{md}")


def header(md: str) -> list[str]:
    line = next(line for line in md.splitlines() if line.startswith("| env |"))
    return [c.strip() for c in line.strip("|").split("|")]


def rliable_iqm_interval(scores: list[float]) -> tuple[float, float, float]:
    """rliable's own IQM and 95% interval of one task's scores (2,000 reps, seed 0)."""
    from rliable import library, metrics

    x = np.asarray(scores, dtype=float)[:, None]
    np.random.seed(0)  # rliable resamples with NumPy's global generator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # arch: random_state is deprecated
        point, interval = library.get_interval_estimates(
            {"x": x}, lambda s: np.array([metrics.aggregate_iqm(s)]), reps=2000, random_state=np.random.RandomState(0)
        )
    return float(point["x"][0]), float(interval["x"][0, 0]), float(interval["x"][1, 0])


def test_iqm_with_its_bootstrap_interval_beside_mean_std_seeds_and_budget(tmp_path):
    pytest.importorskip("rliable")
    outlier = [0.01, 0.02, 0.03, 0.04, 1.0]  # the IQM is the mean of the middle three: 0.03
    source = write_results(
        tmp_path / "sweep", [("a2c", "rl", "RAM-MNIST-v0", outlier), ("ppo", "rl", "RAM-MNIST-v0", [0.5] * 5)]
    )
    merge_tables([source], tmp_path / "out")
    md = (tmp_path / "out" / "results.md").read_text()
    cells = dict(zip(header(md), table_row(md, "RAM-MNIST-v0", "a2c"), strict=True))
    iqm, low, high = rliable_iqm_interval(outlier)
    assert iqm == pytest.approx(0.03) and low <= 0.03 <= high
    assert cells["IQM [95% CI]"] == f"0.030 [{low:.3f}, {high:.3f}]"
    assert cells["mean ± std"] == f"0.220 ± {np.std(outlier):.3f}"
    assert cells["seeds ok"] == "5/5" and cells["budget"] == "1,000" and cells["env steps"] == "1,024 ± 0"
    same = dict(zip(header(md), table_row(md, "RAM-MNIST-v0", "ppo"), strict=True))
    assert same["IQM [95% CI]"] == "0.500 [0.500, 0.500]"  # every seed alike: no spread to resample
    assert "interquartile mean" in md and "stratified bootstrap" in md and "2,000" in md
    merge_tables([source], tmp_path / "again")  # seeded: the same table every time
    assert (tmp_path / "again" / "results.md").read_text() == md


def test_the_iqm_is_the_mean_of_the_middle_half():
    pytest.importorskip("rliable")
    iqm, low, high = stats.iqm_interval([1.0, 2.0, 3.0, 4.0, 100.0], stats.load_rliable())
    assert iqm == pytest.approx(3.0) and 1.0 <= low <= 3.0 <= high <= 100.0
    assert stats.iqm_interval([0.7, 0.8, 0.9], stats.load_rliable())[0] == pytest.approx(0.8)  # 3 seeds: the mean
    # seeded whatever NumPy's global generator holds, which is given back as it was
    np.random.seed(123)
    first = stats.iqm_interval([0.1, 0.5, 0.2, 0.9], stats.load_rliable())
    after = np.random.random()
    np.random.seed(123)
    assert np.random.random() == after
    assert stats.iqm_interval([0.1, 0.5, 0.2, 0.9], stats.load_rliable()) == first


def test_every_table_names_the_chance_level_of_its_envs(tmp_path):
    source = write_results(
        tmp_path / "sweep", [("a2c", "rl", "RAM-MNIST-v0", [0.9, 0.91]), ("dqn", "rl", "RAM-Catch-v0", [0.7, 0.8])]
    )
    merge_tables([source], tmp_path / "out")
    md = (tmp_path / "out" / "results.md").read_text()
    column = header(md).index("chance")
    assert table_row(md, "RAM-MNIST-v0", "a2c")[column] == "0.100"  # 1 / 10 classes
    catch = stats.chance_level("RAM-Catch-v0", {})
    assert catch is not None and 0.03 < catch < 0.3
    assert table_row(md, "RAM-Catch-v0", "dqn")[column] == f"{catch:.3f}"
    assert "1 / the number of classes" in md and "uniformly random policy" in md and "1,000" in md
    # a paddle as wide as the screen catches every ball: the level is measured with the env's keywords
    assert stats.chance_level("RAM-Catch-v0", {"screen_size": 8, "paddle_width": 8}) == 1.0
    assert stats.chance_level("RAM-MNIST-v0", {"n_glimpses": 2}) == pytest.approx(0.1)
    assert stats.chance_level("not-an-env-v0", {}) is None


def test_the_chance_level_is_measured_once_per_env_and_keywords(monkeypatch):
    import gymnasium as gym

    first = stats.chance_level("RAM-Catch-v0", {"screen_size": 12})
    monkeypatch.setattr(gym, "make_vec", lambda *a, **k: pytest.fail("measured twice"))
    assert stats.chance_level("RAM-Catch-v0", {"screen_size": 12}) == first


def test_probability_of_improvement_picture_beside_the_curves(tmp_path, capsys):
    pytest.importorskip("rliable")
    groups = [
        ("a2c", "rl", "RAM-Catch-v0", [0.3, 0.4, 0.5]),
        ("dqn", "rl", "RAM-Catch-v0", [0.6, 0.7, 0.8]),
        ("ppo", "rl", "RAM-Catch-v0", [0.1, 0.2, 0.45]),
        ("ram", "privileged", "RAM-Catch-v0", [0.9, 0.9, 0.9]),
    ]
    source = write_results(tmp_path / "sweep", groups)
    assert cli.main(["bench", "--table", str(source), "--out", str(tmp_path / "out")]) == 0
    picture = tmp_path / "out" / "probability_of_improvement.png"
    assert Image.open(picture).size[0] > 100
    assert "probability_of_improvement.png" in (tmp_path / "out" / "results.md").read_text()
    p, low, high = stats.improvement([0.6, 0.7, 0.8], [0.3, 0.4, 0.5], stats.load_rliable())
    assert (p, low, high) == (1.0, 1.0, 1.0)  # every dqn seed beats every a2c seed
    p, low, high = stats.improvement([0.3, 0.4, 0.5], [0.1, 0.2, 0.45], stats.load_rliable())
    assert p == pytest.approx(7 / 9) and 0 <= low <= p <= high <= 1
    # tracks stay apart: the pairs are rl against rl only
    pairs = stats.improvement_pairs({(e, t, a): s for a, t, e, s in groups}, stats.load_rliable())
    assert {(x, y) for _, _, x, y, *_ in pairs} == {("dqn", "a2c"), ("dqn", "ppo"), ("a2c", "ppo")}


def test_without_rliable_the_table_drops_the_iqm_and_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "rliable", None)  # `import rliable` fails as when it is missing
    groups = [("a2c", "rl", "RAM-MNIST-v0", [0.8, 0.9]), ("ppo", "rl", "RAM-MNIST-v0", [0.7, 0.75])]
    source = write_results(tmp_path / "sweep", groups)
    capsys.readouterr()
    merge_tables([source], tmp_path / "out")
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'ram-gym[viz]'" in err and "rliable" in err
    md = (tmp_path / "out" / "results.md").read_text()
    assert "IQM" not in header(md) and "mean ± std" in header(md) and "chance" in header(md)
    assert table_row(md, "RAM-MNIST-v0", "a2c")[header(md).index("mean ± std")] == "0.850 ± 0.050"
    assert not (tmp_path / "out" / "probability_of_improvement.png").exists()
    assert (tmp_path / "out" / "scores.png").exists()


def test_a_results_csv_alone_keeps_the_curves_and_what_the_csv_says(tmp_path):
    source = write_results(tmp_path / "sweep", [("a2c", "rl", "RAM-MNIST-v0", [0.8, 0.9])], budget=None)
    curves = Image.new("RGB", (300, 200), "white")
    curves.save(source / "curves.png")
    before = (source / "curves.png").read_bytes()
    merge_tables([source], source)  # the committed reference results: no run directories to draw from
    assert (source / "curves.png").read_bytes() == before
    md = (source / "results.md").read_text()
    assert table_row(md, "RAM-MNIST-v0", "a2c")[header(md).index("budget")] == "-"  # not recorded
    with open(source / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["env_steps"] for r in rows] == ["1024", "1024"] and "steps" in rows[0]


@pytest.mark.parametrize("name", ["sweep_5m", "sweep_small"])
def test_the_committed_reference_tables_are_made_from_their_results_csv(name, tmp_path):
    pytest.importorskip("rliable")
    committed = REPO / "benchmarks" / "results" / name
    md = (committed / "results.md").read_text()
    assert "IQM [95% CI]" in header(md) and "chance" in header(md) and "budget" in header(md)
    assert (committed / "probability_of_improvement.png").exists() and (committed / "curves.png").exists()
    from agents.sweep.report import _read_results_csv, summarize

    summarize(_read_results_csv(committed / "results.csv"), tmp_path, name)
    assert (tmp_path / "results.md").read_text() == md
