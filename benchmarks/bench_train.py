"""Training speed of the RAM against the machine's own matmul rate.

For each core (``rnn``, ``lstm``) and batch size, in one run: images (episodes) and env
steps per second of real RAM updates, the model's FLOPs per glimpse (counted from the
layer shapes: forward multiply-adds x 2, backward twice the forward), the GFLOP/s that
makes, the GFLOP/s that torch's matmul reaches on this machine at the model's own layer
shapes and batch (measured here, forward and backward products), and the ratio of the two:
how near the hardware limit training runs.

    python benchmarks/bench_train.py [--env RAM-ClutteredMNIST-v0] [--batches 128 512] [--seconds 10]
        [--reference COMMIT] [--without-reset-ahead] [--with-reset-ahead] [--compiled] [--breakdown]

``--reference COMMIT`` also times that commit's trainer in the same run (a ``git worktree``
of it, imported in a subprocess, each row measured right after the current code's) and
adds its images/s and the speed-up.  The first column is the trainer as it runs by default
(:attr:`agents.ram.RAM.overlap_resets`: the next env reset in a background thread only when
torch leaves a core free); ``--without-reset-ahead``, ``--with-reset-ahead`` and ``--compiled``
add the current code's images/s with every env reset in line, with every reset in the
background, and with ``torch.compile`` on the glimpse and core networks.  ``--breakdown``
adds a second table: where one update's time goes (the env's reset, its steps, the model's
forward and backward alone on fixed glimpses, and the rest: loss, optimizer, conversions,
Python), each part timed on its own with every reset in line.  Run it on an otherwise idle
machine; compare rates only within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from agents.ram import RAM
from agents.threads import use_free_cores


def layer_shapes(agent: RAM) -> list[tuple[int, int]]:
    """``(in, out)`` of every matrix product one glimpse step runs (forward)."""
    shapes = []
    for module in agent.policy.modules():
        if isinstance(module, torch.nn.Linear):
            shapes.append((module.in_features, module.out_features))
        elif isinstance(module, torch.nn.LSTMCell):
            shapes += [(module.input_size, 4 * module.hidden_size), (module.hidden_size, 4 * module.hidden_size)]
    return shapes


def flops_per_glimpse(shapes: list[tuple[int, int]]) -> float:
    """Forward and backward FLOPs of one glimpse step: 2 per multiply-add, backward = 2 x forward."""
    return 3 * sum(2 * i * o for i, o in shapes)


def matmul_rate(shapes: list[tuple[int, int]], batch: int, seconds: float = 2.0) -> float:
    """GFLOP/s of torch's matmul on these shapes at this batch: forward, grad-input and grad-weight products."""
    mats = [(torch.randn(batch, i), torch.randn(i, o), torch.randn(batch, o)) for i, o in shapes]
    flops = 3 * sum(2 * batch * i * o for i, o in shapes)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for x, w, g in mats:
            x @ w  # forward
            g @ w.T  # gradient of the input
            x.T @ g  # gradient of the weights
        done += 1
    return done * flops / (time.perf_counter() - start) / 1e9


def measure(
    env_id: str, core: str, batch: int, seconds: float, reset_ahead: bool | None = None, compiled: bool = False
) -> dict[str, float]:
    """One row: real RAM updates for ``seconds`` (``reset_ahead``: the agent's ``overlap_resets``,
    ``None`` its default, ``False`` every reset in line as before
    :class:`agents.ram.rollout.ResetAhead`, ``True`` every reset in the background; ``compiled``: the glimpse and core
    networks wrapped in ``torch.compile``, timed after two warm-up updates)."""
    agent = RAM(env_id, seed=0, num_envs=batch, core=core)
    agent.overlap_resets = reset_ahead
    if compiled:
        policy = agent.policy
        policy.glimpse_network = torch.compile(policy.glimpse_network, dynamic=False)  # type: ignore[assignment]
        policy.core_network = torch.compile(policy.core_network, dynamic=False)  # type: ignore[assignment]
    envs = agent._make_envs()
    agent.total_timesteps = 10**12
    agent.train_step(envs, seed=0)  # warm-up (and compilation)
    if compiled:
        agent.train_step(envs)
    episodes = steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        metrics = agent.train_step(envs)
        episodes += batch
        steps += int(metrics["episode_length"] * batch)
    elapsed = time.perf_counter() - start
    shapes = layer_shapes(agent)
    per_glimpse = flops_per_glimpse(shapes)
    achieved = steps * per_glimpse / elapsed / 1e9
    limit = matmul_rate(shapes, batch)
    return {
        "images": episodes / elapsed,
        "steps": steps / elapsed,
        "mflop": per_glimpse / 1e6,
        "gflops": achieved,
        "limit": limit,
    }


def _ms_per_call(fn, seconds: float) -> float:
    """Mean wall-clock milliseconds of ``fn()`` over about ``seconds`` (after one warm-up call)."""
    fn()
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return (time.perf_counter() - start) / calls * 1000


def breakdown(env_id: str, core: str, batch: int, seconds: float) -> dict[str, float]:
    """Milliseconds of one update (every reset in line) and of its parts, each timed alone:
    ``update``, ``reset`` (``envs.reset()``), ``steps`` (an episode's ``envs.step`` calls with
    fixed actions), ``model`` (forward and backward of the model over one episode's glimpses,
    no env, loss or optimizer) and ``rest`` (``update`` minus the three)."""
    import numpy as np

    agent = RAM(env_id, seed=0, num_envs=batch, core=core)
    agent.overlap_resets = False
    envs = agent._make_envs()
    agent.total_timesteps = 10**12
    rollout = agent.collect(envs, seed=0)
    n_steps = rollout.alive.shape[0]
    update = _ms_per_call(lambda: agent.train_step(envs), seconds)
    reset = _ms_per_call(envs.reset, seconds / 2)
    obs, _ = envs.reset()
    action = {"location": np.zeros((batch, 2), np.float32), agent.action_key: np.zeros(batch, np.int64)}

    def episode() -> None:
        envs.reset()
        for _ in range(n_steps):
            envs.step(action)

    steps = _ms_per_call(episode, seconds / 2) - reset
    policy = agent.policy
    glimpses = torch.as_tensor(np.repeat(obs["glimpse"][None], n_steps, 0))
    where = torch.as_tensor(np.repeat(obs["location"][None], n_steps, 0))

    def model() -> None:
        state = policy.initial_state(batch)
        total = torch.zeros(())
        for t in range(n_steps):
            out = policy(glimpses[t], where[t], state, sample_action=False)
            state = out.state
            total = total + out.location_log_prob.sum() + (out.baseline.sum() if out.baseline is not None else 0)
        (total + out.action_logits.logsumexp(-1).sum()).backward()
        policy.zero_grad(set_to_none=True)

    model_ms = _ms_per_call(model, seconds / 2)
    rest = update - reset - steps - model_ms
    return {"update": update, "reset": reset, "steps": steps, "model": model_ms, "rest": rest}


REPO = Path(__file__).resolve().parents[1]


def reference_images_per_second(tree: Path, env_id: str, core: str, batch: int, seconds: float, threads: int) -> float:
    """images/s of the trainer in ``tree`` (a checkout of the reference commit), measured
    by this script's :func:`measure` in a subprocess that imports ``agents`` from there."""
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, __file__, "--measure", env_id, core, str(batch), str(seconds), str(threads)]
    out = subprocess.run(command, env=env, cwd=tree, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if Path(result["agents"]).resolve() != (tree / "agents").resolve():
        raise RuntimeError(f"the reference run imported {result['agents']}, not {tree / 'agents'}")
    return float(result["images"])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":  # one reference row (see reference_images_per_second)
        env_id, core, batch, seconds, n_threads = sys.argv[2:7]
        torch.set_num_threads(int(n_threads))
        import agents

        m = measure(env_id, core, int(batch), float(seconds))
        print(json.dumps({"images": m["images"], "agents": str(Path(agents.__file__).parent)}))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="RAM-ClutteredMNIST-v0")
    parser.add_argument("--batches", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--cores", nargs="+", default=["rnn", "lstm"])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the idle cores)")
    parser.add_argument("--reference", metavar="COMMIT", help="also time this commit's trainer, row by row")
    parser.add_argument(
        "--without-reset-ahead", action="store_true", help="also time the current code with every env reset in line"
    )
    parser.add_argument(
        "--with-reset-ahead",
        action="store_true",
        help="also time the current code with every env reset in a background thread",
    )
    parser.add_argument("--breakdown", action="store_true", help="also print where an update's time goes")
    parser.add_argument(
        "--compiled", action="store_true", help="also time the current code with torch.compile on the model"
    )
    args = parser.parse_args()
    if args.reference:
        check = ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{args.reference}^{{commit}}"]
        if subprocess.run(check, capture_output=True).returncode != 0:
            parser.error(f"--reference {args.reference!r} is not a commit of {REPO} (see `git log --oneline`)")
    threads = use_free_cores(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-train-ref-") as scratch:
        tree = None
        if args.reference:
            tree = Path(scratch) / "reference"
            add = ["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(tree), args.reference]
            subprocess.run(add, check=True)
        try:
            table(args, threads, tree)
        finally:
            if tree is not None:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)


def table(args: argparse.Namespace, threads: int, tree: Path | None) -> None:
    """Print the table (with the reference's images/s and the speed-up when ``tree`` is given)."""
    commit = ""
    if tree is not None:
        commit = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
    print(
        f"# bench_train  {time.strftime('%Y-%m-%d %H:%M')}  {platform.machine()}  {os.cpu_count()} cores  "
        f"torch {torch.__version__}  {threads} torch threads  env {args.env}"
        + (f"  reference {commit}" if commit else "")
    )
    ref_head = f" images/s at {commit} | speed-up |" if commit else ""
    inline_head = " images/s, resets in line |" if args.without_reset_ahead else ""
    inline_head += " images/s, resets ahead |" if args.with_reset_ahead else ""
    inline_head += " images/s, torch.compile |" if args.compiled else ""
    print(
        "| core | batch | images/s | env steps/s | MFLOP per glimpse | achieved GFLOP/s | matmul GFLOP/s | ratio |"
        + inline_head
        + ref_head
    )
    print("|---|---|---|---|---|---|---|---|" + "---|" * inline_head.count("|") + ("---|---|" if commit else ""))
    for core in args.cores:
        for batch in args.batches:
            m = measure(args.env, core, batch, args.seconds)
            row = (
                f"| {core} | {batch} | {m['images']:,.0f} | {m['steps']:,.0f} | {m['mflop']:.2f} | "
                f"{m['gflops']:.1f} | {m['limit']:.1f} | {m['gflops'] / m['limit']:.0%} |"
            )
            if args.without_reset_ahead:
                row += f" {measure(args.env, core, batch, args.seconds, reset_ahead=False)['images']:,.0f} |"
            if args.with_reset_ahead:
                row += f" {measure(args.env, core, batch, args.seconds, reset_ahead=True)['images']:,.0f} |"
            if args.compiled:
                try:
                    row += f" {measure(args.env, core, batch, args.seconds, compiled=True)['images']:,.0f} |"
                except Exception as err:  # no compiler, or torch.compile cannot handle the model: say so
                    row += f" n/a ({type(err).__name__}) |"
            if tree is not None:
                ref = reference_images_per_second(tree, args.env, core, batch, args.seconds, threads)
                row += f" {ref:,.0f} | {m['images'] / ref:.2f}x |"
            print(row, flush=True)
    if args.breakdown:
        print()
        print(
            "| core | batch | update ms (resets in line) | env reset ms | env steps ms "
            "| model forward+backward ms | rest ms |"
        )
        print("|---|---|---|---|---|---|---|")
        for core in args.cores:
            for batch in args.batches:
                b = breakdown(args.env, core, batch, args.seconds)
                print(
                    f"| {core} | {batch} | {b['update']:.1f} | {b['reset']:.1f} | {b['steps']:.1f} | "
                    f"{b['model']:.1f} | {b['rest']:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
