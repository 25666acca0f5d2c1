"""Fault injection: ``loupe ask`` against a loopback OpenAI-compatible server that fails in every way a
real one does (500, 429 + Retry-After, garbage, empty, not a program, slow, never answers, connection
reset, nobody listening). Every run ends within its deadline with an answer (exit 0) or a one-line error
(exit 2), never a traceback; under ``--json`` stdout is always exactly one JSON object.

The CLI runs in-process (click's runner) to keep the suite fast; the last test runs it as a subprocess.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

pytest.importorskip("openai")

from click.testing import CliRunner  # noqa: E402

from loupe.agent.cli import main  # noqa: E402
from openai_server import HANG, RESET, chat, error_body, no_llm_env, server  # noqa: E402,F401  (fixtures)

PROGRAM = "BOX0=LOC(image=IMAGE,object='tie')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)"
SUPPORT = Path(__file__).resolve().parent.parent / "support"
pytestmark = pytest.mark.usefixtures("no_llm_env")


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    PILImage.fromarray(np.full((30, 40, 3), 100, np.uint8)).save(path)
    return path


@pytest.fixture(autouse=True)
def _stand_in_tools(monkeypatch):
    monkeypatch.setenv("LOUPE_PLUGINS", "cli_plugin:setup")  # LOC finds 2 ties; no model needed


def ask(photo, url, *extra):
    """``loupe ask PHOTO 'How many ties are there?' --llm URL --no-cache --quiet`` in-process."""
    args = ["ask", str(photo), "How many ties are there?", "--llm", url, "--no-cache", "--quiet", *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def one_json_object(text: str) -> dict:
    decoder = json.JSONDecoder()
    value, end = decoder.raw_decode(text.strip())
    assert text.strip()[end:] == "", "more than one JSON value on stdout"
    return value


FAULTS = {  # name: (how the chat endpoint is scripted, exit code, what the answer or error says)
    "500 always": ([(error_body("boom"), 500, {})], 2, "HTTP 500"),
    "429 with Retry-After, then ok": ([(error_body("slow down"), 429, {"Retry-After": "1"}), (chat(PROGRAM), 200, {})],
                                      0, "2"),
    "garbage": ([("<html>502 Bad Gateway</html>", 200, {})], 2, "malformed reply"),
    "empty": ([(chat(""), 200, {})], 2, "empty reply"),
    "not a program": ([(chat("Sorry, I cannot help with that."), 200, {})], 2, "line 1, column"),
    "slow but in time": ([(chat(PROGRAM), 200, {"delay": 1.0})], 0, "2"),
    "never answers": ([(HANG, 200, {})], 2, "timed out"),
    "connection reset": ([(RESET, 200, {})], 2, "could not connect"),
}


def script(server, replies):
    """Queue all but the last reply; the last one is the endpoint's answer from then on."""
    for body, status, headers in replies[:-1]:
        server.enqueue("/chat/completions", body, status=status, headers=headers)
    body, status, headers = replies[-1]
    delay = headers.pop("delay", 0.0) if "delay" in headers else 0.0
    server.always("/chat/completions", body, status=status, delay=delay, headers=headers)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_fault_ends_in_an_answer_or_one_line_error(server, photo, fault):
    replies, code, says = FAULTS[fault]
    script(server, [(b, s, dict(h)) for b, s, h in replies])
    result = ask(photo, server.url, "--json", "--llm-timeout", "3")
    assert result.exit_code == code, result.stderr
    data = one_json_object(result.stdout)
    if code == 0:
        assert data["status"] == "ok" and data["answer"] == says
        return
    assert data["ok"] is False if "ok" in data else data["status"] != "ok"
    assert says in json.dumps(data)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors and says in result.stderr and "Traceback" not in result.stderr
    assert len(errors) == 1, result.stderr


def test_nobody_listening_is_a_one_line_error(photo):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = ask(photo, f"http://127.0.0.1:{port}/v1", "--llm-timeout", "2")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "could not connect to http://127.0.0.1" in result.stderr


def test_retry_after_is_honoured_before_the_next_try(server, photo):
    server.enqueue("/chat/completions", error_body("slow down"), status=429, headers={"Retry-After": "1"})
    server.always("/chat/completions", chat(PROGRAM))
    result = ask(photo, server.url)
    assert result.exit_code == 0 and result.stdout.strip() == "2"
    assert len(server.posted("/chat/completions")) == 2


def test_a_bad_llm_spec_is_one_line_exit_2(photo):
    result = ask(photo, "nonsense:model", "--json")
    assert result.exit_code == 2
    assert one_json_object(result.stdout)["error"]["type"] == "LLMError"
    assert result.stderr.startswith("error: unknown LLM spec 'nonsense:model'") and result.stderr.count("\n") == 1


def test_a_missing_api_key_is_one_line_exit_2(photo):
    result = CliRunner().invoke(main, ["ask", str(photo), "How many ties?", "--llm", "openai:gpt-4o-mini"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "no API key found (set OPENAI_API_KEY" in result.stderr


def test_a_server_that_never_answers_as_a_real_process(server, photo):
    """The same as a user meets it: a subprocess, its real stderr, the deadline from --llm-timeout."""
    server.always("/chat/completions", HANG)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SUPPORT), os.environ.get("PYTHONPATH", "")]),
           "LOUPE_PLUGINS": "cli_plugin:setup"}
    result = subprocess.run([sys.executable, "-m", "loupe.agent.cli", "ask", str(photo), "How many ties are there?",
                             "--llm", server.url, "--no-cache", "--json", "--llm-timeout", "2"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert one_json_object(result.stdout)["error"]["message"].endswith("the 2 s deadline would pass before the next try")
    assert len(server.posted("/chat/completions")) == 1


POP = "BOX0=LOC(image=IMAGE,object='tie')\nIMAGE0=COLORPOP(image=IMAGE,object=BOX0)\nR=RESULT(var=IMAGE0)"


@pytest.mark.parametrize("typed, code, says", [
    ("y\n", 0, "wrote "),
    ("no\n", 2, "error: the edit was not approved"),
    ("", 2, "--approve: no answer line left on stdin, so this edit is rejected"),
    ("maybe\n", 2, "error: --approve needs a y/n answer, but stdin is not a terminal and gave 'maybe'"),
])
def test_approve_reads_y_or_n_from_a_pipe(server, photo, tmp_path, typed, code, says):
    server.always("/chat/completions", chat(POP))
    out = tmp_path / "popped.png"
    result = CliRunner().invoke(main, ["ask", str(photo), "pop the tie", "--llm", server.url, "--no-cache", "--quiet",
                                       "--approve", "--out", str(out)], input=typed, catch_exceptions=False)
    assert result.exit_code == code and "Aborted" not in result.stderr
    assert says in result.stdout + result.stderr
    assert "IMAGE0=COLORPOP(image=IMAGE,object=BOX0)" in result.stderr  # the person saw what would run
    assert out.exists() == (code == 0)


@pytest.mark.parametrize("extra, says", [
    (["--out", "no-such-folder/x.png"], "--out no-such-folder/x.png: the folder no-such-folder does not exist"),
    (["--html", "no-such-folder/r.html"], "--html no-such-folder/r.html: the folder no-such-folder does not exist"),
])
def test_bad_output_paths_fail_before_any_llm_call(server, photo, extra, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = ask(photo, server.url, *extra)
    assert result.exit_code == 2 and result.stderr == f"error: {says}\n"
    assert server.posted("/chat/completions") == []


def test_a_question_too_long_fails_before_any_llm_call(server, photo):
    result = CliRunner().invoke(main, ["ask", str(photo), "how many ties? " * 2000, "--llm", server.url, "--json"])
    assert result.exit_code == 2 and "the question is 30,000 characters long; the limit is 2,000" in result.stderr
    assert one_json_object(result.stdout)["error"]["type"] == "InputError"
    assert server.posted("/chat/completions") == []


def test_a_corrupt_program_cache_file_warns_and_ask_still_answers(server, photo, tmp_path, monkeypatch):
    from loupe.agent.graph_deps import CacheWarning

    monkeypatch.setenv("LOUPE_CACHE_DIR", str(tmp_path))
    (tmp_path / "program_cache.sqlite").write_bytes(b"\x00garbage, not SQLite" * 64)
    server.always("/chat/completions", chat(PROGRAM))
    with pytest.warns(CacheWarning, match="program_cache.sqlite cannot be used"):
        result = CliRunner().invoke(main, ["ask", str(photo), "How many ties are there?", "--llm", server.url,
                                           "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout.strip() == "2"
