"""The repository and the package as a reviewer checks them: no import cycle among the
package's modules, no function longer than a screenful or two, and a tracked tree that holds
source, docs, tests and results a reader needs - not checkpoints or raw run directories."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("ram_env", "agents")
MAX_FUNCTION_LINES = 100
MAX_TRACKED_BYTES = 15 * 1024 * 1024  # outside ram_env/data, agents/pretrained and benchmarks/resume
MAX_CSV_BYTES = 1024 * 1024


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The package modules ``name`` imports at module level (lazy imports inside functions and
    ``if TYPE_CHECKING:`` blocks excluded: they do not run when the module is imported)."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    out: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # ``from pkg import module`` imports the module; ``from pkg import name``, the package
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for target in targets:
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    out.add(target)

    visit(tree.body)
    return out


def test_no_import_cycle_among_the_packages_modules():
    found = modules()
    graph = {name: imports_of(path, name, set(found)) for name, path in found.items()}
    cycles = []
    state: dict[str, int] = {}

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                walk(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    assert not cycles, f"import cycles: {cycles}"


def test_the_cycle_check_finds_a_cycle(tmp_path):
    """The check above can fail: two modules that import each other are reported."""
    (tmp_path / "a.py").write_text("import pkg.b\n")
    (tmp_path / "b.py").write_text("from pkg import a\n")
    known = {"pkg.a", "pkg.b"}
    assert imports_of(tmp_path / "a.py", "pkg.a", known) == {"pkg.b"}
    assert imports_of(tmp_path / "b.py", "pkg.b", known) == {"pkg.a"}
    lazy = "def f():\n    import pkg.b\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.b\n"
    (tmp_path / "c.py").write_text(lazy)
    assert imports_of(tmp_path / "c.py", "pkg.c", known) == set()


def test_no_function_is_longer_than_a_screenful_or_two():
    long = []
    for name, path in sorted(modules().items()):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [REPO / p for p in out.decode().split("\0") if p]


def test_the_tracked_tree_holds_source_and_results_not_artefacts():
    files = [p for p in tracked_files() if p.exists()]
    exempt = ("ram_env/data/", "agents/pretrained/", "benchmarks/resume/")
    counted = [p for p in files if not str(p.relative_to(REPO)).startswith(exempt)]
    total = sum(p.stat().st_size for p in counted)
    assert total < MAX_TRACKED_BYTES, f"tracked tree is {total / 2**20:.1f} MB outside the package data and snapshots"
    checkpoints = [str(p.relative_to(REPO)) for p in counted if p.suffix in (".pt", ".zip", ".ckpt")]
    assert not checkpoints, f"checkpoints belong in agents/pretrained/ or one in benchmarks/resume/: {checkpoints}"
    big = [str(p.relative_to(REPO)) for p in counted if p.suffix == ".csv" and p.stat().st_size > MAX_CSV_BYTES]
    assert not big, f"thin these curves (python benchmarks/thin_results.py): {big}"


def test_results_are_thinned():
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "thin_results.py"), str(REPO / "benchmarks" / "results"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"benchmarks/results holds what a reader does not need:\n{result.stdout}"


def test_thinning_keeps_the_first_and_last_rows_under_the_size(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from thin_results import thinned
    finally:
        sys.path.pop(0)
    text = "step,value\n" + "".join(f"{i},{i * 0.5}\n" for i in range(10_000))
    out = thinned(text, 2048)
    rows = out.splitlines()
    assert rows[0] == "step,value" and rows[1] == "0,0.0" and rows[-1] == "9999,4999.5"
    assert len(out) <= 2048 and len(rows) > 50
    assert thinned("a\n1\n2\n", 10) == "a\n1\n2\n"
