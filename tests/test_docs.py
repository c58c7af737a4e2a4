"""The README and docs/ stay true: every `bench` command in their code blocks parses with bench's
own argument parser (a preset it names exists), every relative link and image points at a file of
the repository, and the README stays short enough to read in five minutes."""
import re
import shlex
from pathlib import Path

import pytest

from bench import defaults
from bench.cli import parser

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "results" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_LINES = 150


def bench_commands(page: Path) -> list[str]:
    """The `bench ...` commands of a page's ```bash blocks, comments and a trailing `&` removed; a
    line with several commands joined by && gives each."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S):
        for line in block.splitlines():
            for part in line.split("#", 1)[0].split("&&"):
                part = part.strip().rstrip("&").strip()
                if part.startswith("bench "):
                    commands.append(part)
    return commands


COMMANDS = [(page.relative_to(ROOT).as_posix(), command) for page in PAGES for command in bench_commands(page)]


def test_the_readme_shows_the_main_command():
    assert ("README.md", "bench run --methods beta_vae,vae --dataset dsprites") in COMMANDS


@pytest.mark.parametrize("page, command", COMMANDS)
def test_a_documented_bench_command_parses(page, command):
    args = parser().parse_args(shlex.split(command)[1:])           # argparse exits on a flag it lacks
    if args.command == "reproduce":
        assert args.name in defaults.presets(), f"{page}: unknown preset {args.name!r}"


def links(page: Path) -> list[str]:
    """A page's Markdown link and image targets that are paths (no URL, no anchor alone)."""
    targets = re.findall(r"\]\(([^)\s]+)\)", page.read_text())
    return [target.split("#")[0] for target in targets if "://" not in target and not target.startswith("#")]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_a_file(page):
    missing = [target for target in links(page) if not (page.parent / target).exists()]
    assert not missing, f"{page.relative_to(ROOT)}: {missing}"


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= README_LINES


def test_the_flag_table_is_the_run_settings_declaration():
    """docs/usage.md's table of `bench run` flags: --config and --set, then each run setting's row as
    bench/run_settings.py makes it from its one declaration (and no other flag)."""
    from bench import run_settings
    section = (ROOT / "docs" / "usage.md").read_text().split("## `bench run` flags")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `--")]
    assert [row.split("`")[1].split()[0] for row in rows[:2]] == ["--config", "--set"]
    assert rows[2:] == run_settings.flag_table().splitlines()
