"""Generate the documentation pages that come from the code, so they never drift from it.

* ``docs/envs/<id>.md``: one page per registered id, from the env class docstring
  (Description, spaces, Rewards, Starting State, Episode End, Arguments, Version History),
  the id's own settings and spaces, and the shipped agent's score and GIF;
* ``docs/results.md``: ``benchmarks/RESULTS.md`` with links made relative to the site;
* ``docs/cli-reference.md``: the ``--help`` of every ``ram`` command;
* ``docs/index.md``: the README.

    python docs/gen_pages.py           # write the pages
    python docs/gen_pages.py --check   # exit 1 if a page is out of date (tests/test_docs.py)
    python docs/gen_pages.py --gifs    # also redraw docs/gifs/<id>.gif from the shipped models
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import re
import sys
from pathlib import Path

import gymnasium as gym

import ram_env
from ram_env.registration import IMAGE_ENV_IDS, PAPER_SETTINGS

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
PAPER = {
    "RAM-MNIST-v0": "Table 1a",
    "RAM-TranslatedMNIST-v0": "Table 1b",
    "RAM-ClutteredMNIST-v0": "Table 2a",
    "RAM-ClutteredMNIST100-v0": "Table 2b",
    "RAM-Catch-v0": "Section 4.2",
}


#: how the pages make the ids that need keywords (their spaces depend on the images)
EXAMPLE_KWARGS = {"RAM-Glimpse-v0": ("28x28 grey images of 10 classes", {"n": 20, "side": 28})}


def env_page(env_id: str) -> str:
    if env_id in EXAMPLE_KWARGS:
        import numpy as np

        what, spec = EXAMPLE_KWARGS[env_id]
        images = np.zeros((spec["n"], spec["side"], spec["side"]), np.uint8)
        env = gym.make(env_id, images=images, labels=np.arange(spec["n"]) % 10)
        settings_row = f"| Settings | your images: see Arguments (the spaces above are for {what}) |"
        source = "a ram-gym extension of Mnih et al., 2014"
        make = f'`gym.make("{env_id}", images=X, labels=y)`, `gym.make("{env_id}", data="set.npz")`'
    else:
        env = gym.make(env_id)
        settings = PAPER_SETTINGS[env_id][2]
        settings_row = f"| This id's settings | {', '.join(f'`{k}={v}`' for k, v in settings.items())} |"
        source = f"{PAPER[env_id]} of Mnih et al., 2014"
        make = f'`gym.make("{env_id}")`, `gym.make_vec("{env_id}", num_envs=N)`'
    cls = type(env.unwrapped)
    doc = inspect.cleandoc(cls.__doc__ or "")
    summary, _, body = doc.partition("\n")
    lines = [f"# {env_id}", "", f"*{summary.strip()}* ({source})", ""]
    if (DOCS / "gifs" / f"{env_id}.gif").exists():
        lines += [f"![{env_id}: the shipped agent playing one episode](../gifs/{env_id}.gif)", ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| Make | {make} |",
        f"| Class | `{cls.__module__}.{cls.__name__}` |",
        f"| Observation space | `{env.observation_space}` |",
        f"| Action space | `{env.action_space}` |",
        settings_row,
        f"| Task kind | `{ram_env.task_kind(env)}` (`ram_env.task_kind(env)`) |",
    ]
    lines += _shipped_rows(env_id)
    lines += ["", body.strip(), ""]
    return "\n".join(lines)


def _shipped_rows(env_id: str) -> list[str]:
    from agents.checkpoint import load_checkpoint
    from agents.pretrained import available, pretrained_path

    if env_id not in available():
        return ["| Shipped model | none |"]
    extra = load_checkpoint(pretrained_path(env_id))["extra"]
    error = extra.get("test_error")
    what = (
        f"{100 * (1 - error):.2f}% of 1,000 games caught"
        if env_id == "RAM-Catch-v0"
        else f"{100 * error:.2f}% test error (whole test split, deterministic, one sample)"
    )
    return [
        f'| Shipped model | `RAM.load_pretrained("{env_id}")`, `ram eval --pretrained {env_id}`: {what} |',
        f"| Trained by | `{extra.get('command', '?')}` ({extra.get('env_steps', 0):,} env steps) |",
    ]


def envs_index() -> str:
    lines = [
        "# Environments",
        "",
        "Every id is registered on `import ram_env`; each page is generated from the class docstring.",
        "",
        "| id | settings | page |",
        "|---|---|---|",
    ]
    for env_id, (_, _, settings) in PAPER_SETTINGS.items():
        shown = ", ".join(f"{k}={v}" for k, v in settings.items())
        lines.append(f"| `{env_id}` | {shown} | [{env_id}]({env_id}.md) |")
    for env_id in IMAGE_ENV_IDS:
        lines.append(f"| `{env_id}` | your own images (images/labels or data=) | [{env_id}]({env_id}.md) |")
    return "\n".join(lines) + "\n"


def results_page() -> str:
    text = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    text = text.replace("](../docs/", "](").replace("](docs/", "](")
    # files under benchmarks/ are not part of the site: name them instead of linking
    text = re.sub(r"!?\[([^\]]*)\]\((results/[^)]+)\)", r"\1 (`benchmarks/\2` in the repository)", text)
    note = "*Generated from `benchmarks/RESULTS.md` by `docs/gen_pages.py`.*\n\n"
    first, _, rest = text.partition("\n")
    return f"{first}\n\n{note}{rest.lstrip()}"


def cli_reference() -> str:
    import os

    from agents import cli

    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal: the page must not depend on it
    lines = ["# `ram` command reference", "", "*The `--help` of each command, generated by `docs/gen_pages.py`.*", ""]
    for command in ("train", "eval", "show", "plot", "bench", "play", "envs"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            cli.build_parser().parse_args([command, "--help"])
        text = re.sub(r"\s+$", "", out.getvalue(), flags=re.M)
        lines += [f"## `ram {command}`", "", "```text", text.replace("usage: ram", "usage: ram", 1), "```", ""]
    return "\n".join(lines)


def home_page() -> str:
    """The README, with its links made relative to the site."""
    text = (ROOT / "README.md").read_text()
    text = text.replace("](docs/", "](").replace("](benchmarks/RESULTS.md)", "](results.md)")
    text = text.replace("](benchmarks/RESULTS.md#", "](results.md#")
    # other files under benchmarks/ (the sweep's curves) are not part of the site: name them
    text = re.sub(r"!?\[([^\]]*)\]\((benchmarks/[^)]+)\)", r"\1 (`\2` in the repository)", text)
    return text.replace("or read the pages here", "or read them on GitHub")


def pages() -> dict[Path, str]:
    out = {DOCS / "envs" / f"{env_id}.md": env_page(env_id) for env_id in (*PAPER_SETTINGS, *IMAGE_ENV_IDS)}
    out[DOCS / "index.md"] = home_page()
    out[DOCS / "envs" / "index.md"] = envs_index()
    out[DOCS / "results.md"] = results_page()
    out[DOCS / "cli-reference.md"] = cli_reference()
    return out


def gifs() -> None:
    from agents import cli

    for env_id in PAPER_SETTINGS:
        cli.main(["show", "--pretrained", env_id, "--n", "1", "--out", str(DOCS / "gifs" / f"{env_id}.gif")])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the pages are up to date")
    parser.add_argument("--gifs", action="store_true", help="also redraw the GIFs of the shipped models")
    args = parser.parse_args(argv)
    stale = []
    for path, text in pages().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)} (run python docs/gen_pages.py)")
        return 1 if stale else 0
    if args.gifs:
        gifs()
    print(f"wrote {len(stale)} page(s)" + (" and the GIFs" if args.gifs else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
