"""The documentation pages that come from the code, generated when the site is built.

MkDocs runs this script through the ``mkdocs-gen-files`` plugin (``mkdocs.yml``), so no page
below is committed and none can drift from the code:

* ``envs/<id>.md``: one page per registered id, from the env class docstring
  (Description, spaces, Rewards, Starting State, Episode End, Arguments, Version History),
  the id's own settings and spaces, and the shipped agent's model card and GIF;
* ``results.md``: ``benchmarks/RESULTS.md``, its pictures copied into the site;
* ``cli-reference.md``: the ``--help`` of every ``ram`` command;
* ``index.md``: the README.

    mkdocs build                              # the site, with these pages (make docs)
    python docs/gen_pages.py --out DIR        # only write the pages into DIR, to read them
    python docs/gen_pages.py --gifs           # redraw docs/gifs/<id>.gif from the shipped models
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
    lines += ["", plain_markdown(body.strip()), ""]
    return "\n".join(lines)


def _shipped_rows(env_id: str) -> list[str]:
    from agents.pretrained import available, tracks

    if env_id not in available():
        return ["| Shipped model | none |"]
    return [row for n, track in enumerate(tracks(env_id)) for row in _model_rows(env_id, track, own=n == 0)]


def _model_rows(env_id: str, track: str, own: bool) -> list[str]:
    """The table rows of one shipped model (``own``: the env's own model, loaded without a track)."""
    from agents.pretrained import model_card

    card = model_card(env_id, track)
    what = (
        f"{100 * (1 - card.test_error):.2f}% of 1,000 games caught"
        if env_id == "RAM-Catch-v0"
        else f"{100 * card.test_error:.2f}% test error (whole test split, deterministic, one sample)"
    )
    load = f'RAM.load_pretrained("{env_id}")' if own else f'RAM.load_pretrained("{env_id}", track="{track}")'
    cli = f"ram eval --pretrained {env_id}" + ("" if own else f" --track {track}")
    reads = "reward alone" if track == "rl" else "training read the label or the true state"
    rows = [
        f"| Shipped model ({track} track: {reads}) | `{load}`, `{cli}`: {what} |",
        f'| Scored on | `{card.make}` (`agent.make_env(split="test")` makes it) |',
    ]
    steps = f"{card.env_steps:,} env steps" + (f", {card.train_seconds / 3600:.1f} h" if card.train_seconds else "")
    commands = "<br>then ".join(f"`{c}`" for c in card.command.split("; then "))
    return rows + [f"| Trained by | {commands} ({steps}) |"]


#: Sphinx roles in docstrings (``:class:`~a.b.C```) as Markdown code (`` `C` ``)
_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|obj|exc):`~?([^`]+)`")


def plain_markdown(text: str) -> str:
    """Docstring text as Markdown: Sphinx roles become inline code (``~`` keeps the last name)."""

    def code(match: re.Match[str]) -> str:
        full = match.group(0)
        name = match.group(1)
        return f"`{name.rsplit('.', 1)[-1] if '`~' in full else name}`"

    return _ROLE.sub(code, text)


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


PICTURE = (".png", ".gif", ".svg", ".jpg")


def results_page() -> str:
    text = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    text = text.replace("](../docs/", "](").replace("](../README.md", "](index.md")
    text = re.sub(r"(!?)\[([^\]]*)\]\(((?:results|resume)/[^)#]+|[A-Z]+\.md)\)", _benchmarks_link, text)
    note = "*Generated from `benchmarks/RESULTS.md` when the site is built.*\n\n"
    first, _, rest = text.partition("\n")
    return f"{first}\n\n{note}{rest.lstrip()}"


def _benchmarks_link(match: re.Match[str]) -> str:
    """A link to a file under ``benchmarks/`` (``path`` relative to it): pictures are copied into
    the site, other files are named as repository paths."""
    bang, label, path = match.groups()
    if path.endswith(PICTURE):
        return f"{bang}[{label}](assets/benchmarks/{path})"
    return f"{label} (`benchmarks/{path}` in the repository)"


def assets() -> dict[str, Path]:
    """Pictures under ``benchmarks/`` that README or RESULTS show: site path -> file."""
    found = {}
    for source, base in ((ROOT / "README.md", ROOT), (ROOT / "benchmarks" / "RESULTS.md", ROOT / "benchmarks")):
        for path in re.findall(r"\]\(([^)#:]+)\)", source.read_text()):
            file = (base / path).resolve()
            if file.suffix in PICTURE and file.is_file() and file.is_relative_to(ROOT / "benchmarks"):
                found[f"assets/{file.relative_to(ROOT).as_posix()}"] = file
    return found


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
    text = re.sub(r"(!?)\[([^\]]*)\]\(benchmarks/([^)#:]+)\)", _benchmarks_link, text)
    # files at the repository's top (LICENSE, CITATION.cff) are not pages of the site: name them
    return re.sub(r"\[([^\]]*)\]\(([A-Z][A-Za-z]*(?:\.cff|\.md)?)\)", _top_file, text)


def _top_file(match: re.Match[str]) -> str:
    label, path = match.groups()
    return f"`{path}` in the repository" if label == path else f"{label} (`{path}` in the repository)"


def pages() -> dict[str, str]:
    """Every generated page: path in the site's docs -> Markdown."""
    out = {f"envs/{env_id}.md": env_page(env_id) for env_id in (*PAPER_SETTINGS, *IMAGE_ENV_IDS)}
    out["index.md"] = home_page()
    out["envs/index.md"] = envs_index()
    out["results.md"] = results_page()
    out["cli-reference.md"] = cli_reference()
    return out


def build_site() -> None:
    """Write the pages and pictures into the site MkDocs is building (mkdocs-gen-files)."""
    import mkdocs_gen_files

    for name, text in pages().items():
        with mkdocs_gen_files.open(name, "w") as f:
            f.write(text)
    for name, file in assets().items():
        with mkdocs_gen_files.open(name, "wb") as f:
            f.write(file.read_bytes())


def gifs() -> None:
    from agents import cli

    for env_id in PAPER_SETTINGS:
        cli.main(["show", "--pretrained", env_id, "--n", "1", "--out", str(DOCS / "gifs" / f"{env_id}.gif")])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="write the generated pages into this directory")
    parser.add_argument("--gifs", action="store_true", help="redraw docs/gifs/<id>.gif from the shipped models")
    args = parser.parse_args(argv)
    if args.out is None and not args.gifs:
        parser.error("nothing to do: give --out DIR and/or --gifs (mkdocs build generates the pages itself)")
    if args.out is not None:
        for name, text in pages().items():
            path = args.out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        for name, file in assets().items():
            (args.out / name).parent.mkdir(parents=True, exist_ok=True)
            (args.out / name).write_bytes(file.read_bytes())
        print(f"wrote the generated pages into {args.out}")
    if args.gifs:
        gifs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
elif __name__ == "<run_path>":  # run by MkDocs' gen-files plugin
    build_site()
