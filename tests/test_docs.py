"""The documentation pages generated from the code at build time (docs/gen_pages.py, run by
MkDocs' gen-files plugin): every id has its page, the markup renders, pictures are found, and
every command a page shows runs as written."""

import importlib.util
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def gen_pages():
    spec = importlib.util.spec_from_file_location("gen_pages", ROOT / "docs" / "gen_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pages(gen_pages):
    return gen_pages.pages()


def test_every_id_has_a_page_with_the_docstring_sections(gen_pages, pages):
    for env_id in gen_pages.PAPER_SETTINGS:
        page = pages[f"envs/{env_id}.md"]
        assert "## Observation Space" in page and "## Version History" in page
        assert (ROOT / "docs" / "gifs" / f"{env_id}.gif").stat().st_size > 1000
    assert {"index.md", "results.md", "cli-reference.md", "envs/index.md"} <= set(pages)
    for name in pages:  # generated, never committed
        assert not (ROOT / "docs" / name).exists() or name not in _tracked(), name


def _tracked() -> set[str]:
    import subprocess

    try:
        out = subprocess.run(["git", "ls-files", "docs"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return set()
    return {p.removeprefix("docs/") for p in out.stdout.split()}


def test_sphinx_roles_render_as_code(gen_pages, pages):
    assert gen_pages.plain_markdown("see :class:`~agents.ram.RAM` and :func:`ram_env.task_kind`") == (
        "see `RAM` and `ram_env.task_kind`"
    )
    for name, page in pages.items():
        assert ":class:`" not in page and ":func:`" not in page and ":mod:`" not in page, name


def test_pictures_the_pages_show_are_copied_into_the_site(gen_pages, pages):
    assets = gen_pages.assets()
    for name, page in pages.items():
        for target in __import__("re").findall(r"\]\((assets/[^)]+)\)", page):
            assert target in assets, (name, target)
    assert all(path.is_file() for path in assets.values())


def test_every_trained_by_command_runs_as_written(tmp_path, pages, monkeypatch):
    """Each "Trained by" command parses with the ``ram`` command, names recipes and files that
    exist, and writes nowhere outside runs/; the first step of each really starts (a tiny budget)."""
    from agents import cli
    from agents.ram.recipes import available_recipes

    commands = []
    for page in pages.values():
        for line in page.splitlines():
            if line.startswith("| Trained by |"):
                commands += __import__("re").findall(r"`(ram train [^`]+)`", line)
    assert len(commands) >= 5
    outs = []
    for command in commands:
        argv = shlex.split(command)[1:]
        args = cli.build_parser().parse_args(argv)
        assert args.config is None or args.config in available_recipes() or (ROOT / args.config).exists(), command
        assert args.out.startswith("runs/"), command
        if args.init_from is not None and not args.init_from.startswith("RAM-"):
            assert args.init_from.removesuffix("/model.pt") in outs, command
        outs.append(args.out)
    monkeypatch.chdir(tmp_path)
    first = shlex.split(commands[0])[1:]
    first = [a for a in first if a not in ("--no-progress",)]
    steps = first.index("--steps")
    first[steps + 1] = "2000"
    assert cli.main([*first, "--eval-episodes", "0", "--no-progress"]) == 0


def test_readme_code_runs_and_its_commands_parse(tmp_path, monkeypatch):
    """The README's Python blocks run (with a small training budget) and each ``ram`` command it
    shows parses with the ``ram`` command as written."""
    import re

    from agents import cli

    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block.replace("3_000_000", "3_000"), "README.md", "exec"), namespace)
    assert namespace["reward"] in (0.0, 1.0) and "label" in namespace["action"]
    commands = [line.split("#")[0].strip() for line in re.findall(r"^ram .*$", text, re.M)]
    assert len(commands) >= 6
    for command in commands:
        argv = shlex.split(command)[1:]
        cli.build_parser().parse_args(argv)  # SystemExit on a bad flag
        if "--config" in argv:
            from agents.ram.recipes import available_recipes

            assert argv[argv.index("--config") + 1] in available_recipes()
        if argv[0] == "bench":
            assert (ROOT / argv[1]).exists()
