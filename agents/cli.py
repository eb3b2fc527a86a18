"""``ram``: train, evaluate and play the Recurrent Attention Model's tasks.

ram train --env RAM-MNIST-v0 --steps 3000000 --out runs/mnist
ram train --env RAM-MNIST-v0 --out runs/mnist --resume      # continue a stopped run
ram train --algo ppo --env RAM-Catch-v0 --env-arg obs_mode=full
ram train --algo cnn --env RAM-ClutteredMNIST-v0             # the paper's full-image baseline
ram eval runs/mnist/model.pt                                  # the whole fixed test split
ram show runs/mnist/model.pt --out glimpses.png               # where it looks (or --out episode.gif)
ram plot runs/mnist runs/other --out curves.png
ram bench benchmarks/configs/sweep_small.yaml --jobs 2               # algorithms x envs x seeds
ram play catch --fovea
ram envs
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.registry import PluginError
from agents.threads import use_free_cores
from ram_env.mnist import MnistDataError

__all__ = ["main", "build_parser", "hparams_from"]


def _parse_value(text: str) -> Any:
    from agents.yamlfile import YamlFileError, parse

    try:
        return parse(text, f"the value {text!r}")
    except YamlFileError as err:
        raise ValueError(str(err)) from None


def _key_values(option: str, items: Sequence[str]) -> dict[str, Any]:
    """``{key: YAML value}`` of ``option``'s ``key=value`` items, in order (a later key wins)."""
    pairs: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{option} takes key=value, got {item!r}")
        pairs[key.strip()] = _parse_value(value)
    return pairs


def unknown_env_error(env_id: str) -> str | None:
    """The message naming an unregistered environment id, or None if ``env_id`` is registered."""
    import gymnasium as gym

    import ram_env

    if env_id in gym.envs.registry:
        return None
    return f"unknown environment {env_id!r}; ram-gym's are {', '.join(ram_env.ENV_IDS)}"


def hparams_from(
    algo: str,
    config: str | None = None,
    sets: Sequence[str] = (),
    env_args: Sequence[str] = (),
    num_envs: int | None = None,
) -> dict[str, Any]:
    """The hyper-parameters ``ram train`` builds from its options, for scripts that train the same way.

    Args:
        algo: the algorithm (``"ram"``, ``"ppo"``, ...): whether ``config`` may name a shipped recipe.
        config: ``--config``: a shipped RAM recipe by name, or a YAML file of hyper-parameters.
        sets: ``--set`` items, ``"key=value"`` (later wins over ``config``).
        env_args: ``--env-arg`` items, ``"key=value"``: environment keywords, under ``"env_kwargs"``.
        num_envs: ``--num-envs``: episodes per update.

    Returns:
        ``{field: value, ..., "env_kwargs": {...}}`` (``env_kwargs`` only when there are some).

    Raises:
        ValueError: an unknown algorithm, an unreadable config, or an item without ``=``.
    """
    from agents.ram.recipes import resolve_config
    from agents.registry import algorithm
    from agents.yamlfile import YamlFileError, load_mapping

    params: dict[str, Any] = {}
    if config:
        recipes = algorithm(algo).recipes
        try:
            params.update(resolve_config(config) if recipes else load_mapping(config))
        except YamlFileError as err:
            raise ValueError(f"--config: {err}") from None
    params.update(_key_values("--set", sets))
    if num_envs is not None:
        params["num_envs"] = num_envs
    env_kwargs = dict(params.pop("env_kwargs", {}) or {})
    env_kwargs.update(_key_values("--env-arg", env_args))
    if env_kwargs:
        params["env_kwargs"] = env_kwargs
    return params


def _hparams(args: argparse.Namespace) -> dict[str, Any]:
    """:func:`hparams_from` of ``ram train``'s options; a bad one exits with its message."""
    try:
        return hparams_from(args.algo, args.config, args.set or [], args.env_arg or [], args.num_envs)
    except ValueError as err:
        raise SystemExit(f"ram train: {err}") from None


def _same_setting(a: Any, b: Any) -> bool:
    """Equal settings; numbers also when one was recorded as a string (``"3e-4"``, as older runs did)."""
    if a == b:
        return True
    try:
        return not isinstance(a, bool) and not isinstance(b, bool) and float(a) == float(b)
    except (TypeError, ValueError):
        return False


def _recorded_algo(name: object, out: Path) -> str:
    """The algorithm a run's ``config.json`` names, if ram-gym may use it without importing
    anything the file names: a built-in or an installed plug-in.  A ``package.module:Class``
    there is only imported when ``--algo`` repeats it on the command line."""
    from agents.registry import ALGORITHMS, load_entry_points

    if name is None:
        return "ram"
    if not isinstance(name, str):
        raise SystemExit(f"ram train: {out / 'config.json'} names algorithm {name!r}, which is not a name")
    if name not in ALGORITHMS:
        load_entry_points()
    if name not in ALGORITHMS:
        raise SystemExit(
            f"ram train: the run in {out} was trained by {name!r}, which is neither built in nor installed; "
            f"a file never makes ram-gym import a module: pass --algo {name} to use that plug-in"
        )
    return name


def _check_resume_settings(args: argparse.Namespace, out: Path, explicit_algo: str | None) -> None:
    """``--resume`` continues a run with the settings it was started with (its ``config.json``):
    ``--config``, ``--set``, ``--env-arg``, ``--num-envs`` and ``--seed`` may repeat them (the
    original command with ``--resume`` added works) but not change them - that exits naming
    each difference instead of silently training with the old value."""
    flags = {"--config": args.config, "--set": args.set, "--env-arg": args.env_arg, "--num-envs": args.num_envs}
    given = [flag for flag, value in flags.items() if value is not None]
    if (not given and args.seed is None) or not (out / "checkpoint.pt").exists():
        return  # nothing to check, or nothing to resume (which resume() reports)
    named = ", ".join(given + (["--seed"] if args.seed is not None else []))
    try:
        saved = json.loads((out / "config.json").read_text())
        had = saved["config"]
        if not isinstance(had, dict):
            raise TypeError(type(had).__name__)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SystemExit(
            f"ram train: --resume with {named}: {out / 'config.json'} cannot be read ({err}), so they cannot be "
            "checked against the run's settings; resume without them"
        ) from None
    conflicts = []
    if args.seed is not None and args.seed != saved.get("seed"):
        conflicts.append(f"seed {args.seed} (the run's: {saved.get('seed')})")
    if given:
        from agents.registry import resolved_settings

        algo = explicit_algo or _recorded_algo(saved.get("algo"), out)
        try:
            hparams = hparams_from(algo, args.config, args.set or [], args.env_arg or [], args.num_envs)
            env_kwargs = hparams.pop("env_kwargs", {})
            wanted = json.loads(
                json.dumps(resolved_settings(algo, args.env, {**hparams, "env_kwargs": env_kwargs}), default=str)
            )
        except (ValueError, TypeError) as err:
            raise SystemExit(f"ram train: {err}") from None
        for key in sorted(hparams):
            if key in wanted and not _same_setting(wanted[key], had.get(key)):
                conflicts.append(f"{key}={wanted[key]!r} (the run's: {had.get(key)!r})")
        had_env = had.get("env_kwargs") or {}
        for key, value in sorted(json.loads(json.dumps(env_kwargs, default=str)).items()):
            if value != had_env.get(key):
                conflicts.append(f"env {key}={value!r} (the run's: {had_env.get(key)!r})")
    if conflicts:
        raise SystemExit(
            f"ram train: --resume continues {out} with the settings it was started with; {named} would change "
            f"{'; '.join(conflicts)} - start a new run in another --out to change them"
        )


def _init_from(args: argparse.Namespace, hparams: dict[str, Any]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """``--init-from``: ``(model, its lineage record, the run's hyper-parameters)`` - the
    checkpoint (a file, or the id of a shipped model) a new run starts from, loaded; without
    ``--config`` the hyper-parameters are the checkpoint's own settings with
    ``--set``/``--env-arg``/``--num-envs`` (``hparams``) over them, so the run fine-tunes the same network."""
    import dataclasses

    from agents.checkpoint import CheckpointError
    from agents.registry import load_agent
    from agents.training import lineage

    if args.algo != "ram":
        raise SystemExit(f"ram train: --init-from starts a RAM from a RAM checkpoint's weights, not {args.algo}")
    path = Path(args.init_from)
    if not path.exists() and not args.init_from.endswith(".pt"):
        from agents.pretrained import pretrained_path

        try:
            path = pretrained_path(args.init_from)
        except FileNotFoundError as err:
            raise SystemExit(
                f"ram train: --init-from {args.init_from}: no such file, nor a shipped model: {err}"
            ) from None
    try:
        parent = load_agent(path, algo="ram")
    except (CheckpointError, ValueError, OSError) as err:
        raise SystemExit(f"ram train: --init-from: {err}") from None
    if args.config is None:
        own = dataclasses.asdict(parent.config)  # type: ignore[attr-defined]
        env_kwargs = {**own.pop("env_kwargs", {}), **hparams.get("env_kwargs", {})}
        hparams = {**own, **hparams, "env_kwargs": env_kwargs}
    return parent, lineage(path, parent), hparams


def _check_train_numbers(args: argparse.Namespace) -> None:
    """``ram train``'s numeric options, checked before anything is made or trained."""
    checks = [
        (args.steps is None or args.steps >= 1, f"--steps must be a positive number of env steps, got {args.steps}"),
        (args.checkpoint_every >= 1, f"--checkpoint-every must be >= 1 (updates), got {args.checkpoint_every}"),
        (
            args.time_budget is None or args.time_budget > 0,
            f"--time-budget must be > 0 minutes, got {args.time_budget}",
        ),
        (args.minutes is None or args.minutes > 0, f"--minutes must be > 0, got {args.minutes}"),
        (
            args.validate_every is None or args.validate_every >= 1,
            f"--validate-every must be >= 1 env steps, got {args.validate_every}",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise SystemExit(f"ram train: {message}")


def _new_run(args: argparse.Namespace, out: Path, options: dict[str, Any]) -> Any:
    """``ram train`` without ``--resume``: make the agent (from ``--init-from``'s weights when
    given), check what would fail after training, train; the run's outcome."""
    from agents.base import Budgeted, FineTunable
    from agents.evaluation import check_episodes
    from agents.registry import algorithm, make_agent, resolved_settings
    from agents.training import train

    hparams = _hparams(args)
    parent, init_record = None, None
    if args.init_from is not None:
        parent, init_record, hparams = _init_from(args, hparams)
    env_kwargs = hparams.pop("env_kwargs", {})
    try:
        agent = make_agent(args.algo, args.env, args.seed, hparams, env_kwargs)
        settings = resolved_settings(args.algo, args.env, {**hparams, "env_kwargs": env_kwargs})
        if parent is not None:
            if not isinstance(agent, FineTunable):
                raise ValueError(f"--init-from starts a run from another's weights; {args.algo} cannot")
            agent.init_weights(parent)
        if args.eval_episodes:  # checked before hours of training, not after
            check_episodes(args.env, agent.env_kwargs, args.eval_episodes)
    except (ValueError, TypeError) as err:
        raise SystemExit(f"ram train: {err}") from None
    if args.time_budget is not None and not isinstance(agent, Budgeted):
        raise SystemExit("ram train: --time-budget fits the RAM's schedule to a deadline; use --minutes for others")
    total = int(args.steps if args.steps is not None else algorithm(args.algo).default_steps)
    return train(
        agent,
        out,
        total,
        settings=settings,
        seed=args.seed,
        time_budget=args.time_budget,
        init_from=init_record,
        **options,
    )


def cmd_train(args: argparse.Namespace) -> int:
    from agents.checkpoint import CheckpointError
    from agents.registry import algorithm, evaluate_agent
    from agents.training import RunDirectoryError, resume

    use_free_cores(args.threads)
    explicit_algo = args.algo
    args.algo = args.algo or "ram"
    out = Path(args.out or f"runs/{args.env}-{args.algo.replace(':', '-')}-s{args.seed or 0}")
    if args.resume and args.init_from is not None:
        raise SystemExit("ram train: --resume continues a run and --init-from starts a new one; give one of them")
    if args.resume:
        _check_resume_settings(args, out, explicit_algo)
    args.seed = 0 if args.seed is None else args.seed
    _check_train_numbers(args)
    try:
        algorithm(args.algo)  # a plug-in is imported and checked against the contract here
    except ValueError as err:
        raise SystemExit(f"ram train: {err}") from None
    if (unknown := unknown_env_error(args.env)) is not None:
        raise SystemExit(f"ram train: {unknown}")
    options = {
        "minutes": args.minutes,
        "checkpoint_every": args.checkpoint_every,
        "tensorboard": not args.no_tensorboard,
        "progress": not args.no_progress,
        "validate_every": args.validate_every,
    }
    try:
        if args.resume:
            try:
                outcome = resume(
                    out, args.steps, env_id=args.env, algo=explicit_algo, time_budget=args.time_budget, **options
                )
            except ValueError as err:
                raise SystemExit(f"ram train: {err}") from None
            print(f"resumed {out} ({outcome.agent.algo})")
        else:
            outcome = _new_run(args, out, options)
    except (RunDirectoryError, CheckpointError) as err:
        raise SystemExit(f"ram train: {err}") from None
    print(outcome.summary())
    if not outcome.finished:
        return 130 if outcome.stopped_by == "signal" else 0
    if args.eval_episodes != 0:
        result = evaluate_agent(outcome.agent, n_episodes=args.eval_episodes or None)
        (out / "eval.json").write_text(json.dumps(result.as_dict(), indent=2))
        print(result.summary())
    return 0


def cmd_eval(args: argparse.Namespace) -> int:

    from agents.checkpoint import CheckpointError
    from agents.registry import evaluate_agent, load_agent

    use_free_cores(args.threads)
    path = _checkpoint_argument(args, "eval")
    try:
        if args.averaged:
            from agents.ram import RAM

            if args.algo not in (None, "ram"):
                raise ValueError(f"--averaged needs a RAM checkpoint (weight_average), not --algo {args.algo}")
            agent: Any = RAM.load(path, averaged=True)
        else:
            agent = load_agent(path, algo=args.algo)
    except (CheckpointError, ValueError) as err:
        raise SystemExit(f"ram eval: {err}") from None
    try:
        result = evaluate_agent(
            agent,
            n_episodes=args.episodes,
            split=args.split,
            num_envs=args.num_envs,
            seed=args.seed,
            deterministic=not args.stochastic,
            mc_samples=args.mc_samples,
        )
    except ValueError as err:
        raise SystemExit(f"ram eval: {err}") from None
    print(json.dumps(result.as_dict(), indent=2) if args.json else result.summary())
    return 0


def _checkpoint_argument(args: argparse.Namespace, command: str) -> str:
    """The checkpoint path of ``CHECKPOINT`` or ``--pretrained ID``."""
    if (args.checkpoint is None) == (args.pretrained is None):
        raise SystemExit(f"ram {command}: give a CHECKPOINT or --pretrained ENV_ID (one of them)")
    if args.pretrained is None:
        if args.track is not None:
            raise SystemExit(
                f"ram {command}: --track chooses among the shipped models: use it with --pretrained ENV_ID"
            )
        return args.checkpoint
    from agents.pretrained import pretrained_path

    try:
        return str(pretrained_path(args.pretrained, args.track))
    except FileNotFoundError as err:
        raise SystemExit(f"ram {command}: {err}") from None


def cmd_show(args: argparse.Namespace) -> int:

    from agents import visualize
    from agents.checkpoint import CheckpointError
    from agents.registry import load_agent

    use_free_cores(args.threads)
    path = _checkpoint_argument(args, "show")
    try:
        agent = load_agent(path, algo=args.algo)
    except (CheckpointError, ValueError) as err:
        raise SystemExit(f"ram show: {err}") from None
    from agents.base import GlimpseAgent

    if not isinstance(agent, GlimpseAgent):
        raise SystemExit(f"ram show: a {agent.algo} model sees whole images; there are no glimpses to show")
    if args.n < 1:
        raise SystemExit("ram show: --n must be >= 1")
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".gif"):
        raise SystemExit(f"ram show: --out must end in .png (grid) or .gif (animations), got {out}")
    try:
        records = visualize.record_episodes(agent, n=args.n, split=args.split, seed=args.seed)
    except ValueError as err:
        raise SystemExit(f"ram show: {err}") from None
    sensor = agent_sensor(agent)
    if out.suffix.lower() == ".png":
        grid, _ = visualize.glimpse_grid(records, sensor, all_scales=args.all_scales)
        written = [visualize.save_png(grid, out)]
    else:
        written = []
        for i, record in enumerate(records):
            target = out if len(records) == 1 else out.with_name(f"{out.stem}-{i:03d}{out.suffix}")
            written.append(visualize.episode_gif(record, sensor, target, ms_per_frame=args.ms_per_frame))
    score = np.mean([r.reward for r in records])
    print(f"{len(records)} episodes of {agent.env_id} (mean reward {score:.3f}); wrote " + ", ".join(map(str, written)))
    return 0


def agent_sensor(agent: Any) -> Any:
    """The glimpse sensor of the agent's environment."""
    import gymnasium as gym

    import ram_env

    return ram_env.glimpse_sensor(gym.make(agent.env_id, **agent.env_kwargs))


def cmd_plot(args: argparse.Namespace) -> int:
    from agents import visualize

    try:
        path = visualize.plot_runs(args.runs, args.out, smooth=args.smooth)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"ram plot: {err}") from None
    print(f"wrote {path}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from agents.bench import SweepConfigError, load_sweep, merge_tables, run_sweep

    if args.table:
        dirs = ([args.config] if args.config else []) + args.table
        out = Path(args.out or "runs/bench-merged")
        try:
            merged = merge_tables(dirs, out)
        except SweepConfigError as err:
            raise SystemExit(f"ram bench --table: {err}") from None
        print((out / "results.md").read_text())
        print(f"merged {len(merged)} runs from {len(dirs)} directories into {out / 'results.md'} and its pictures")
        return 0
    if args.config is None:
        raise SystemExit("ram bench: give a sweep YAML file (or --table DIR ... to merge result directories)")

    overrides = {
        "steps": args.steps,
        "seeds": args.seeds,
        "algos": args.algos,
        "envs": args.envs,
        "minutes": args.minutes,
        "eval_episodes": args.eval_episodes,
    }
    try:
        config = load_sweep(args.config, overrides)
    except SweepConfigError as err:
        raise SystemExit(f"ram bench: {err}") from None
    if args.jobs < 1:
        raise SystemExit("ram bench: --jobs must be >= 1")
    if args.threads is not None and args.threads < 1:
        raise SystemExit("ram bench: --threads must be >= 1")
    out = Path(args.out or f"runs/bench-{config.name}")
    try:
        results = run_sweep(
            config,
            out,
            jobs=args.jobs,
            executor=args.executor,
            address=args.address,
            cpus_per_run=args.cpus_per_run,
            threads=args.threads,
            reuse=args.reuse or (),
        )
    except SweepConfigError as err:
        raise SystemExit(f"ram bench: {err}") from None
    stopped = sum(r["status"] == "interrupted" for r in results)
    failed = sum(r["status"] not in ("ok", "interrupted") for r in results)
    print((out / "results.md").read_text())
    print(
        f"wrote {out / 'results.csv'}, {out / 'results.md'}, {out / 'curves.png'}, {out / 'scores.png'}, "
        f"{out / 'probability_of_improvement.png'}"
        + (f"; {failed} run(s) failed (see results.csv; re-run to retry them)" if failed else "")
        + (f"; {stopped} run(s) stopped part-way (re-run the same command to continue them)" if stopped else "")
    )
    return 130 if stopped else 1 if failed else 0  # 130: stopped by a signal, as ram train


def cmd_play(args: argparse.Namespace) -> int:
    from ram_env.play import main as play_main

    argv = [args.game] + (["--fovea"] if args.fovea else []) + ["--fps", str(args.fps)]
    if args.max_frames is not None:
        argv += ["--max-frames", str(args.max_frames)]
    return play_main(argv)


def cmd_envs(args: argparse.Namespace) -> int:
    from agents.pretrained import available
    from ram_env.registration import IMAGE_ENV_IDS, PAPER_SETTINGS

    shipped = set(available())
    print(f"{'id':28s} {'shipped model':14s} settings")
    for env_id, (_, _, kwargs) in PAPER_SETTINGS.items():
        model = "yes" if env_id in shipped else "-"
        print(f"{env_id:28s} {model:14s} " + ", ".join(f"{k}={v}" for k, v in kwargs.items()))
    for env_id in IMAGE_ENV_IDS:
        print(f"{env_id:28s} {'-':14s} your own images: images=X, labels=y, or data=FILE.npz|FOLDER")
    print(
        "shipped models: ram eval --pretrained ID [--track rl|privileged], ram show --pretrained ID, "
        "RAM.load_pretrained(ID, track=None)"
    )
    _print_model_cards(sorted(shipped))
    return 0


def _print_model_cards(env_ids: list[str]) -> None:
    """Each shipped model's env (the one its figure is for) and figure; needs torch to read them."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        print("(pip install 'ram-gym[agents]' to list the env and score of each shipped model)")
        return
    from agents.pretrained import model_card, tracks

    for env_id in env_ids:
        for track in tracks(env_id):
            card = model_card(env_id, track)
            what = "missed" if env_id == "RAM-Catch-v0" else "test error"
            print(f"  {card.make}: {100 * card.test_error:.2f}% {what} ({track} track)")


def _threads(text: str) -> int | None:
    from agents.threads import parse_threads

    try:
        return parse_threads(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_run_management_arguments(train: Any) -> None:
    """``ram train``'s options that manage the run: checkpoints, validation, threads, logs."""
    train.add_argument("--checkpoint-every", type=int, default=100, help="updates between checkpoints (100)")
    train.add_argument(
        "--validate-every",
        type=int,
        default=None,
        metavar="STEPS",
        help="score the validation split every STEPS env steps into OUT/validation.csv (classification; "
        "deterministic, the whole split): the curve to compare recipes by",
    )
    train.add_argument(
        "--eval-episodes",
        type=int,
        default=None,
        help="test episodes to score at the end (default: the whole test split; 0 skips)",
    )
    train.add_argument(
        "--threads",
        type=_threads,
        default=None,
        metavar="N|auto",
        help="torch CPU threads (default auto: the cores idle when the run starts, so a job sharing the machine "
        "does not slow every update down)",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--no-tensorboard", action="store_true", help="CSV logs only")


def _add_train_command(sub: Any) -> None:
    """``ram train``."""
    from agents.ram.recipes import available_recipes
    from agents.registry import ALGORITHMS

    train = sub.add_parser(
        "train",
        help="train an agent (logs, checkpoints, resume)",
        description="Train an agent on a ram-gym environment. Writes OUT/progress.csv, "
        "OUT/tensorboard/, OUT/checkpoint.pt (every --checkpoint-every updates, atomically), "
        "OUT/model.pt and OUT/eval.json (test-split score) when done.",
    )
    train.add_argument("--env", required=True, help="environment id, e.g. RAM-MNIST-v0 (see `ram envs`)")
    train.add_argument(
        "--algo",
        default=None,
        metavar="ALGO",
        help="; ".join(f"{a.name}: {a.description}" for a in ALGORITHMS.values())
        + "; or your own agent class as package.module:Class (see agents/base.py), or one an installed "
        "package offers in the ram_gym.agents entry-point group (default ram; with --resume, give a plug-in again)",
    )
    train.add_argument(
        "--steps",
        type=int,
        default=None,
        help="training budget in env steps, every env counts (images for fc/cnn); default: ram 3M, "
        "ppo/a2c/recurrent-ppo 1M, dqn 500k, fc/cnn 550k (10 epochs); an RAM-MNIST-v0 episode is 6 steps; "
        "with --resume, the original budget",
    )
    train.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="also stop after this much wall-clock time (a checkpoint is kept; --resume continues)",
    )
    train.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="MINUTES",
        help="ram: finish the run in this much wall-clock time (the schedule is fitted to the steps this machine "
        "manages at its recent speed, at most --steps), then save and score it; with --resume, this continuation",
    )
    train.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    train.add_argument("--out", default=None, help="run directory (default runs/ENV-ALGO-sSEED)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    train.add_argument(
        "--init-from",
        default=None,
        metavar="CHECKPOINT|ENV_ID",
        help="ram: start a new run from this checkpoint's weights (a model.pt/checkpoint.pt, or the id of a shipped "
        "model) with a fresh optimizer and schedule - fine-tuning; its settings, unless --config is given, with "
        "--set/--env-arg over them; config.json records it, and its training time and steps count in the run's",
    )
    train.add_argument("--num-envs", type=int, default=None, help="episodes per update (batch size)")
    train.add_argument(
        "--config",
        default=None,
        help=f"a shipped RAM recipe by name ({', '.join(available_recipes())}) "
        "or a YAML file of hyper-parameters: RAMConfig fields for ram; "
        "SB3 arguments, n_envs, encoding, grid for SB3 "
        "algorithms (over agents/baselines/hyperparams/ALGO.yml); FullImageConfig fields for fc/cnn",
    )
    train.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="one hyper-parameter, e.g. --set learning_rate=3e-4 (repeatable)",
    )
    train.add_argument(
        "--env-arg",
        action="append",
        metavar="KEY=VALUE",
        help="one environment keyword, e.g. --env-arg n_glimpses=4 (repeatable)",
    )
    _add_run_management_arguments(train)
    train.set_defaults(func=cmd_train)


def _add_eval_command(sub: Any) -> None:
    """``ram eval``."""
    ev = sub.add_parser(
        "eval",
        help="score a checkpoint on the fixed test split",
        description="Score a checkpoint: classification on the fixed test split (each image once, "
        "deterministic locations, one sample); Catch: catch rate over --episodes seeded games.",
    )
    ev.add_argument("checkpoint", nargs="?", default=None, help="a checkpoint file (model.pt or checkpoint.pt)")
    ev.add_argument("--pretrained", default=None, metavar="ENV_ID", help="score the shipped model for ENV_ID")
    ev.add_argument(
        "--track",
        default=None,
        choices=["rl", "privileged"],
        help="with --pretrained: the shipped model of this track (rl: trained from the reward alone)",
    )
    ev.add_argument(
        "--algo", default=None, help="load the checkpoint with this algorithm (a plug-in: package.module:Class)"
    )
    ev.add_argument(
        "--split",
        default="test",
        choices=["test", "validation"],
        help="dataset split (test); Catch: validation plays other seeded games than test",
    )
    ev.add_argument("--episodes", type=int, default=None, help="episodes (default: whole split; Catch 1,000)")
    ev.add_argument("--num-envs", type=int, default=500, help="episodes in parallel (500)")
    ev.add_argument(
        "--seed", type=int, default=0, help="seed of the stochastic policy and of Catch's games (0); images are fixed"
    )
    ev.add_argument("--stochastic", action="store_true", help="sample locations instead of the policy mean")
    ev.add_argument(
        "--mc-samples", type=int, default=1, help="majority vote over this many stochastic passes (reported as such)"
    )
    ev.add_argument(
        "--averaged",
        action="store_true",
        help="RAM: score the checkpoint's moving average of its weights (trained with --set weight_average=D)",
    )
    ev.add_argument("--threads", type=_threads, default=None, metavar="N|auto", help="torch CPU threads (auto)")
    ev.add_argument("--json", action="store_true", help="print the result as JSON")
    ev.set_defaults(func=cmd_eval)


def _add_show_command(sub: Any) -> None:
    """``ram show``."""
    show = sub.add_parser(
        "show",
        help="pictures of where an agent looks (PNG grid or per-episode GIFs)",
        description="Play test episodes and draw them: --out FILE.png gives a grid of images with numbered fixations, "
        "the finest retina square of each glimpse (--all-scales: every square) and the predicted/true label; "
        "--out FILE.gif gives an animation: FILE.gif for --n 1, else FILE-000.gif, FILE-001.gif, ... one per "
        "episode, each glimpse beside what the agent saw at each scale (Catch: the game and the fovea), with the "
        "step and, on the last frame, the outcome.",
    )
    show.add_argument("checkpoint", nargs="?", default=None, help="a checkpoint file")
    show.add_argument("--pretrained", default=None, metavar="ENV_ID", help="use the shipped model for ENV_ID")
    show.add_argument(
        "--track",
        default=None,
        choices=["rl", "privileged"],
        help="with --pretrained: the shipped model of this track (rl: trained from the reward alone)",
    )
    show.add_argument(
        "--algo", default=None, help="load the checkpoint with this algorithm (a plug-in: package.module:Class)"
    )
    show.add_argument("--n", type=int, default=16, help="episodes (default 16; test images 0..n-1)")
    show.add_argument(
        "--out", default="glimpses.png", help="FILE.png (grid) or FILE.gif (FILE-000.gif, ... when --n > 1)"
    )
    show.add_argument("--all-scales", action="store_true", help="PNG grid: draw every retina square, not the finest")
    show.add_argument("--split", default="test", choices=["test", "validation"], help="dataset split (test)")
    show.add_argument(
        "--seed",
        type=int,
        default=0,
        help="classification: images SEED .. SEED+N-1 of the split; Catch: the games' seed",
    )
    show.add_argument("--ms-per-frame", type=int, default=600, help="GIF frame duration (600 ms)")
    show.add_argument("--threads", type=_threads, default=None, metavar="N|auto", help="torch CPU threads (auto)")
    show.set_defaults(func=cmd_show)


def _add_plot_command(sub: Any) -> None:
    """``ram plot``."""
    plot = sub.add_parser(
        "plot",
        help="training curves of one or more runs",
        description="Plot accuracy/reward, losses, baseline error, location std and learning rate from "
        "RUN_DIR/progress.csv of each run, overlaid, to a PNG.",
    )
    plot.add_argument("runs", nargs="+", metavar="RUN_DIR", help="`ram train` output directories")
    plot.add_argument("--out", default="training.png", help="PNG file (training.png)")
    plot.add_argument("--smooth", type=int, default=20, help="moving-average window in updates (20)")
    plot.set_defaults(func=cmd_plot)


def _add_bench_command(sub: Any) -> None:
    """``ram bench``."""
    bench = sub.add_parser(
        "bench",
        help="a sweep of algorithms x envs x seeds under one budget (CSV, table, plots)",
        description="Run every (algorithm, env, seed) of a YAML sweep file under the same env-step budget, evaluate "
        "each on the fixed test split, and write OUT/results.csv, OUT/results.md (IQM with its 95%% bootstrap "
        "interval, mean ± std, budget and chance level), OUT/curves.png, OUT/scores.png and "
        "OUT/probability_of_improvement.png. Finished runs are skipped on re-run (keyed by a hash of their "
        "settings), so an interrupted sweep resumes; failed runs are recorded and retried on re-run. "
        "Example file: benchmarks/configs/sweep_small.yaml.",
    )
    bench.add_argument("config", nargs="?", default=None, help="sweep YAML file")
    bench.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="local: --jobs processes here (default); ray: each run a Ray task (pip install 'ram-gym[ray]')",
    )
    bench.add_argument(
        "--address", default=None, help="with --executor ray: the cluster (auto, or HOST:PORT); default a local Ray"
    )
    bench.add_argument("--cpus-per-run", type=int, default=1, help="with --executor ray: CPUs each run asks for (1)")
    bench.add_argument(
        "--table",
        nargs="+",
        default=None,
        metavar="DIR",
        help="merge these `ram bench` output directories into one table and picture in --out (no runs)",
    )
    bench.add_argument("--out", default=None, help="output directory (default runs/bench-NAME)")
    bench.add_argument(
        "--reuse",
        nargs="+",
        default=None,
        metavar="DIR",
        help="take the finished runs of these `ram bench` output directories (or committed results.csv) whose "
        "settings hash matches a run of this sweep instead of running them again (e.g. to add seeds)",
    )
    bench.add_argument("--jobs", type=int, default=1, help="runs in parallel, one process each (1)")
    bench.add_argument("--threads", type=int, default=None, help="torch threads per run (default: the cores / --jobs)")
    bench.add_argument("--steps", type=int, default=None, help="override the budget (env steps per run)")
    bench.add_argument("--minutes", type=float, default=None, help="override the wall-clock cap per run")
    bench.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="override the seeds (a subset of the file's runs keeps their keys, so it reuses and resumes them)",
    )
    bench.add_argument(
        "--algos",
        nargs="+",
        default=None,
        help="override the algorithms (the file's hparams of the others are ignored)",
    )
    bench.add_argument(
        "--envs", nargs="+", default=None, help="override the env ids (the file's settings of the others are ignored)"
    )
    bench.add_argument("--eval-episodes", type=int, default=None, help="override the test episodes per run")
    bench.set_defaults(func=cmd_bench)


def _add_play_command(sub: Any) -> None:
    """``ram play``."""
    play = sub.add_parser(
        "play",
        help="play a game yourself (pygame window)",
        description="Play Catch: arrow keys move the paddle; --fovea shows only the glimpse "
        "and the mouse moves it. Esc quits.",
    )
    play.add_argument("game", choices=["catch"])
    play.add_argument("--fovea", action="store_true", help="see only what the agent sees")
    play.add_argument("--fps", type=float, default=8.0, help="game steps per second (8)")
    play.add_argument("--max-frames", type=int, default=None, help="stop after this many steps")
    play.set_defaults(func=cmd_play)


def _add_envs_command(sub: Any) -> None:
    """``ram envs``."""
    envs = sub.add_parser("envs", help="list the environments and their paper settings")
    envs.set_defaults(func=cmd_envs)


def _version() -> str:
    """The installed ram-gym's version (the source tree's when it is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ram-gym")
    except PackageNotFoundError:
        import ram_env

        return ram_env.__version__


def build_parser() -> argparse.ArgumentParser:

    parser = argparse.ArgumentParser(
        prog="ram", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s (ram-gym) {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_train_command(sub)
    _add_eval_command(sub)
    _add_show_command(sub)
    _add_plot_command(sub)
    _add_bench_command(sub)
    _add_play_command(sub)
    _add_envs_command(sub)
    return parser


#: module -> the extra that installs it
EXTRAS = {
    "torch": "agents",
    "tqdm": "agents",
    "yaml": "agents",
    "stable_baselines3": "baselines",
    "sb3_contrib": "baselines",
    "matplotlib": "viz",
    "PIL": "viz",
    "tensorboard": "viz",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ram`` command; a problem with the input is one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SystemExit as err:
        if isinstance(err.code, str):  # our one-line messages
            print(err.code, file=sys.stderr)
            return 2
        raise
    except (MnistDataError, PluginError) as err:  # bad input, or a plug-in agent that broke the contract
        print(f"ram {args.command}: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        extra = EXTRAS.get((err.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"ram {args.command}: needs {err.name!r}, which is not installed: "
            f"pip install 'ram-gym[{extra}]' (or 'ram-gym[all]')",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
