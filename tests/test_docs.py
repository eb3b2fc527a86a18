"""The documentation pages generated from the code are up to date (docs/gen_pages.py)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_pages_match_the_code(capsys):
    spec = importlib.util.spec_from_file_location("gen_pages", ROOT / "docs" / "gen_pages.py")
    gen_pages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_pages)
    assert gen_pages.main(["--check"]) == 0, capsys.readouterr().out
    for env_id in gen_pages.PAPER_SETTINGS:  # every id has its page and its GIF
        page = (ROOT / "docs" / "envs" / f"{env_id}.md").read_text()
        assert "## Observation Space" in page and "## Version History" in page
        assert (ROOT / "docs" / "gifs" / f"{env_id}.gif").stat().st_size > 1000
