"""Turn a finished training run into a shipped pretrained checkpoint.

Scores ``RUN/model.pt`` the way the README's table does (the whole fixed test split,
deterministic locations, one sample; Catch: 1,000 seeded games) and on the first 1,000
test images (what ``tests/test_pretrained.py`` re-checks in CI), then writes a
weights-only copy to ``agents/pretrained/<env id>.pt`` whose ``extra`` records those
errors, the training command, its wall-clock time and env steps.  A model of another track
than the env's shipped one (``rl`` beside a ``privileged`` model) goes beside it, to
``<env id>.<track>.pt``.

    python benchmarks/ship_pretrained.py runs/ram-translated [--status "..."] [--averaged]

``--averaged`` ships the run's moving average of its weights (trained with
``weight_average``; ``RUN/model_averaged.pt``) instead of its last weights.

``--rescore`` re-scores every shipped checkpoint under the current evaluation (same
weights) and records the new errors, keeping the old ones as ``test_error_before``:

    python benchmarks/ship_pretrained.py --rescore --why "first fixation fixed by image index"
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import torch

from agents.checkpoint import CheckpointError
from agents.evaluation import evaluate
from agents.ram import RAM
from agents.training import RunDirectoryError, run_history

PRETRAINED = Path(__file__).resolve().parent.parent / "agents" / "pretrained"


def rescore(why: str) -> None:
    """Re-score every shipped checkpoint under today's evaluation; same weights, new record."""
    from agents.pretrained import available, pretrained_path, tracks

    for env_id, track in ((env, track) for env in available() for track in tracks(env)):
        agent = RAM.load_pretrained(env_id, track)
        extra = dict(agent.checkpoint_extra)
        full, first = evaluate(agent), evaluate(agent, n_episodes=1000)
        extra.setdefault("test_error_before", extra.get("test_error"))
        extra.update(
            test_error=full.error,
            test_error_first_1000=first.error,
            rescored=f"{datetime.date.today().isoformat()}: {why}",
        )
        agent.save(pretrained_path(env_id, track), extra=extra, weights_only=True)
        print(f"{env_id}: {100 * extra['test_error_before']:.2f}% -> {100 * full.error:.2f}% ({full.summary()})")


def destination(agent: RAM) -> Path:
    """``<env id>.pt``, unless the env's shipped model is of another track: ``<env id>.<track>.pt``."""
    from agents.checkpoint import load_checkpoint
    from agents.pretrained import checkpoint_track

    path = PRETRAINED / f"{agent.env_id}.pt"
    if path.exists() and checkpoint_track(load_checkpoint(path)) != agent.track:
        return PRETRAINED / f"{agent.env_id}.{agent.track}.pt"
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, nargs="?", help="a finished `ram train` run directory")
    parser.add_argument("--status", default="", help="a note stored with the checkpoint (e.g. 'interim')")
    parser.add_argument("--averaged", action="store_true", help="ship the moving average of the weights")
    parser.add_argument("--rescore", action="store_true", help="re-score every shipped checkpoint instead")
    parser.add_argument("--why", default="evaluation changed", help="with --rescore: the reason, stored")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.rescore:
        rescore(args.why)
        return
    if args.run is None:
        parser.error("give a run directory, or --rescore")
    try:
        agent = RAM.load(args.run / "model.pt", averaged=args.averaged)
    except CheckpointError as err:
        raise SystemExit(f"ship_pretrained: {err}") from None
    agent.averaged_weights = None  # a shipped file holds one set of weights
    full = evaluate(agent)
    first = evaluate(agent, n_episodes=1000)
    try:
        command, seconds, steps = run_history(args.run)  # a run started --init-from counts its parent's
    except RunDirectoryError as err:
        raise SystemExit(f"ship_pretrained: {err}") from None
    extra = {
        "test_error": full.error,
        "test_error_first_1000": first.error,
        "command": command,
        "train_seconds": seconds,
        "env_steps": steps,
        "date": datetime.date.today().isoformat(),
    }
    if args.status:
        extra["status"] = args.status
    if args.averaged:
        extra["weights"] = f"moving average, decay {agent.config.weight_average}"
    out = agent.save(destination(agent), extra=extra, weights_only=True)
    print(full.summary())
    print(first.summary())
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {json.dumps(extra)}")


if __name__ == "__main__":
    main()
