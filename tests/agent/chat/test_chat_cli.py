"""``loupe chat`` driven from a pipe, as a script would: one JSON object per line of input, each turn's
answer and image, follow-ups resolved against the conversation, an unresolved reference asked about, and the
session continued by a second process from its SQLite checkpoint."""

import json
import os
import subprocess
import sys

import numpy as np

from chat_script import ORACLE, PHOTOS, SCRIPT, check_images, needs_lite, pixels

pytestmark = needs_lite


def chat(tmp_path, lines, *args):
    command = [sys.executable, "-m", "loupe.agent.cli", "chat", *args, "--json", "--llm", ORACLE, "--planner", "generate",
               "--no-cache", "--store", str(tmp_path / "store"), "--out-dir", str(tmp_path / "out")]
    result = subprocess.run(command, input="".join(line + "\n" for line in lines), capture_output=True, text=True,
                            env=dict(os.environ), timeout=300)
    return result, [json.loads(line) for line in result.stdout.splitlines()] if "\n  " not in result.stdout else []


def test_a_scripted_conversation_through_the_pipe(tmp_path):
    result, turns = chat(tmp_path, [t[0] for t in SCRIPT], str(PHOTOS / "family_dinner.jpg"), str(PHOTOS / "dog.jpg"))
    assert result.returncode == 0, result.stderr
    assert len(turns) == len(SCRIPT)   # exactly one JSON object per request
    for turn, (typed, read, status, answer) in zip(turns, SCRIPT):
        assert (turn["query"], turn["resolved_query"], turn["status"]) == (typed, read, status), turn
        if answer is not None:
            assert turn["answer"] == answer, turn
        assert {"program", "steps", "errors", "reason", "unused", "llm_calls"} <= set(turn)   # loupe ask --json's keys
    assert len({t["session"] for t in turns}) == 1
    assert turns[9]["reason"].startswith("which thing does 'them' mean?") and turns[9]["program"] == ""
    assert [r["kind"] for r in turns[1]["references"]] == ["objects"]
    assert [r["kind"] for r in turns[6]["references"]] == ["both"]
    assert "LEFT" in turns[6]["program"] and "RIGHT" in turns[6]["program"]
    check_images(turns, lambda turn: pixels(turn["image"]) if turn["image"] else None)

    again, more = chat(tmp_path, ["/history", "use the original", "/save " + str(tmp_path / "saved.png"), "/bogus",
                                  "how many faces are there?"], "--session", turns[0]["session"])
    assert again.returncode == 2 and "unknown command '/bogus'" in again.stderr   # the bad line said, the rest run
    assert len(more) == 5 and [t["turn"] for t in more[0]["turns"]] == list(range(1, len(SCRIPT) + 1))
    assert more[1]["status"] == "ok" and more[1]["image_key"] == turns[2]["image_key"]
    assert np.array_equal(pixels(tmp_path / "saved.png"), pixels(PHOTOS / "family_dinner.jpg"))
    assert more[3]["ok"] is False and more[4]["answer"] == "8" and more[4]["turn"] == len(SCRIPT) + 2


def test_chat_needs_a_photo_or_a_session(tmp_path):
    for args, message in [((), "give one or two photos"), (("--session", "nothing-here"), "no stored session")]:
        result, _ = chat(tmp_path, ["how many dogs?"], *args)
        assert result.returncode == 2 and message in result.stderr
        assert message in json.loads(result.stdout)["errors"][0]   # --json: the failure as one JSON object


def test_edits_wait_for_approval_read_from_the_pipe(tmp_path):
    result, turns = chat(tmp_path, ["how many faces are there?", "blur them", "n", "blur them", "y"],
                         str(PHOTOS / "family_dinner.jpg"), "--approve")
    assert result.returncode == 0, result.stderr
    assert [t["status"] for t in turns] == ["ok", "rejected", "ok"]   # the y/n lines answer, they are no turns
    assert turns[1]["image"] is None and turns[2]["image"].endswith("turn-3.png")
    assert result.stderr.count("The program edits the image (BLUR)") == 2
