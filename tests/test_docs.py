"""The README does what it says (issue 25): its Python snippets run, every `loupe` command and option it names
parses, every file it names exists, and its table of what the lite tier answers and refuses is what Loupe
answers on those photos (tests/data/photos; the README's examples/images photos are the same files)."""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from loupe.agent.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PHOTOS = ROOT / "tests" / "data" / "photos"
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README, flags=re.M | re.S)
SNIPPETS = [code for language, code in BLOCKS if language == "python"]
#: a `loupe` command as the README writes it, in a code block or inline code: subcommand and what follows
COMMAND = re.compile(r"\bloupe ((?:models )?[a-z]+)\b([^`\n]*)")


def _models_pulled() -> bool:
    from loupe.agent.llm.embedded import gguf_path
    from loupe.tools.lite.pack import is_pulled

    return is_pulled() and gguf_path().is_file()


needs_models = pytest.mark.skipif(not _models_pulled(), reason="models not installed; run `loupe models pull`")


def _named_commands() -> dict[tuple[str, ...], set[str]]:
    """Each subcommand the README names, with every option it gives it."""
    found: dict[tuple[str, ...], set[str]] = {}
    blocks = [re.sub(r"\n\s+", " ", code) for language, code in BLOCKS if language != "python"]  # continued lines
    for code in blocks + re.findall(r"`([^`\n]+)`", README):
        for sub, rest in COMMAND.findall(code):
            rest = re.split(r"&&| \| | #", rest)[0]  # the command ends at the next command or a comment
            found.setdefault(tuple(sub.split()), set()).update(re.findall(r"(--[a-z][a-z-]*)", rest))
    return found


def test_the_readme_names_the_commands_a_newcomer_needs():
    named = _named_commands()
    assert {("ask",), ("run",), ("check",), ("tools",), ("models", "pull"), ("models", "list"), ("serve",),
            ("mcp",), ("eval",), ("batch",)} <= set(named)
    assert {"--right", "--out", "--html", "--json", "--approve", "--llm"} <= named[("ask",)]


@pytest.mark.parametrize("command, options", sorted(_named_commands().items()), ids=lambda c: " ".join(c)
                         if isinstance(c, tuple) else "")
def test_every_command_and_option_the_readme_names_parses(command, options):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")
    missing = {option for option in options if option not in result.stdout} - {"--help"}
    assert not missing, f"loupe {' '.join(command)} has no {sorted(missing)}"


def test_every_file_the_readme_names_exists():
    links = [link for link in re.findall(r"\]\(([^)]+)\)", README) if "://" not in link]
    paths = [p for p in re.findall(r"`([\w.-]+/[\w./-]*)`", README)
             if p.split("/")[0] in {"agent", "tools", "programs", "tests", "docs", "examples", "bench", ".ci"}]
    quoted = re.findall(r"\b((?:examples|tests|docs)/[\w./-]+\.\w+)", README)
    assert links and paths and quoted
    missing = [p for p in links + paths + quoted if not (ROOT / p).exists()]
    assert not missing, missing


def test_the_readme_and_ci_name_one_test_command():
    command = README.split("runs the whole test suite")[1].split("```")[1].strip()
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip().endswith("\n" + command)


@needs_models
@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: f"python-snippet-{SNIPPETS.index(s)}")
def test_the_python_snippets_run(snippet, tmp_path):
    """Each snippet as a script in a fresh folder whose examples/images are the test photos; what its
    comments promise is what it prints."""
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "images").symlink_to(PHOTOS, target_is_directory=True)
    (tmp_path / "snippet.py").write_text(snippet, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "ok white"
    assert any(line.startswith("unsupported the installed tools cannot") for line in lines)
    from PIL import Image as PILImage

    with PILImage.open(tmp_path / "blurred.png") as blurred, PILImage.open(PHOTOS / "dog.jpg") as photo:
        assert blurred.size == photo.size


@dataclass(frozen=True)
class Row:
    request: str
    photos: tuple[str, ...]
    says: str

    @property
    def status(self) -> str:
        if self.says.startswith(("unsupported", "error")):
            return {"unsupported": "unsupported", "error": "failed"}[self.says.split(":")[0]]
        return "partial" if "(partial" in self.says else "ok"

    @property
    def quoted(self) -> str:
        """The answer, or a part of the reason or error, that the row quotes."""
        found = re.search(r"`([^`]+)`", self.says)
        return found.group(1) if found else ""


def _lite_table() -> list[Row]:
    table = README.split("## What the lite tier answers")[1].split("\n\n")[2]
    rows = [line.strip("|").split(" | ") for line in table.splitlines()[2:]]
    return [Row(request.strip(), tuple(re.findall(r"`([\w.-]+\.jpg)`", photos)), says.strip())
            for request, photos, says in rows]


TABLE = _lite_table()


def test_the_lite_table_has_answers_and_refusals():
    assert len(TABLE) >= 10 and {row.status for row in TABLE} == {"ok", "partial", "unsupported", "failed"}
    assert all((PHOTOS / photo).is_file() for row in TABLE for photo in row.photos)


@pytest.fixture(scope="module")
def agent():
    from loupe.agent.api import Agent

    with Agent(llm="local") as running:
        yield running


@needs_models
@pytest.mark.parametrize("row", TABLE, ids=lambda r: r.request)
def test_the_lite_table_is_what_loupe_says(row, agent):
    photos = [str(PHOTOS / photo) for photo in row.photos]
    answer = agent.ask(photos[0], row.request, right=photos[1] if len(photos) > 1 else None)
    assert answer.status == row.status, (answer.status, answer.text, answer.reason, answer.errors)
    if "an edited image" in row.says:
        from loupe.programs.images import load_image

        assert answer.image is not None and answer.image.size == load_image(photos[0]).size
    elif row.status in ("ok", "partial"):
        assert answer.text == row.quoted
    elif row.status == "unsupported":
        assert row.quoted in answer.reason
    else:
        assert any(row.quoted in error for error in answer.errors), answer.errors
