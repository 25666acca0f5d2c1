"""The planners through the real openai client against an OpenAI-compatible server on loopback that
returns scripted completions: program, task and SayCan modes, and the retry path."""

import numpy as np
import pytest
from loupe.tools.settings import Settings

pytest.importorskip("openai")

from fakes import SlowLoc  # noqa: E402
from openai_server import chat, echo, error_body, server  # noqa: E402,F401  (server is a fixture)
from loupe.programs.values import Image  # noqa: E402
from loupe.tools.registry import default_registry  # noqa: E402

PROGRAM = "BOX0=LOC(image=IMAGE,object='tie')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)"


class InstantLoc(SlowLoc):
    delay = 0.0


@pytest.fixture
def agent_for(tmp_path, monkeypatch):
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LOUPE_LLM", "LOUPE_LLM_MODEL"):
        monkeypatch.delenv(key, raising=False)

    def make(url, mode="program"):
        from loupe.agent.api import Agent

        registry = default_registry(Settings.from_env(), plugins=False)
        registry.register(InstantLoc)
        return Agent(llm=url, mode=mode, registry=registry, use_cache=False)

    return make


@pytest.fixture
def photo():
    return Image(np.full((30, 40, 3), 100, np.uint8), "photo")


def test_program_mode_over_http(server, agent_for, photo):
    server.enqueue("/chat/completions", chat("```\n" + PROGRAM + "\n```", prompt_tokens=900))
    answer = agent_for(server.url).ask(photo, "How many ties are there?")
    assert answer.ok and answer.text == "2" and answer.llm_calls == 1 and answer.prompt_tokens == 900
    sent = server.posted("/chat/completions")[0]
    assert sent["model"] == "served-model" and "Question: How many ties are there?" in sent["messages"][-1]["content"]


def test_provider_errors_are_retried_then_the_plan_runs(server, agent_for, photo):
    server.enqueue("/chat/completions", error_body("overloaded"), status=503)
    server.enqueue("/chat/completions", error_body("slow down"), status=429)
    server.enqueue("/chat/completions", chat(PROGRAM))
    answer = agent_for(server.url).ask(photo, "How many ties are there?")
    assert answer.ok and answer.text == "2"
    assert len(server.posted("/chat/completions")) == 3


def test_task_mode_over_http(server, agent_for, photo):
    tasks = ('[{"task":"object-detection","id":0,"dep":[-1],"args":{"image":"image.jpg","text":"glasses"}},'
             '{"task":"object-counting","id":1,"dep":[0],"args":{"image":"<GENERATED>-0"}}]')
    server.enqueue("/chat/completions", chat(tasks))
    answer = agent_for(server.url, mode="tasks").ask(photo, "count the glasses")
    assert answer.ok and answer.text == "1"


def test_saycan_mode_scores_by_echo_logprobs(server, agent_for, photo):
    wanted = ["BOX0=LOC(image=IMAGE,object='tie')", "ANSWER0=COUNT(box=BOX0)", "FINAL_RESULT=RESULT(var=ANSWER0)"]

    def score(body):
        replies = []
        for text in body["prompt"]:
            cut = text.rfind("\n", 0, len(text) - 1) + 1
            prompt, step = text[:cut], text[cut:].strip()
            so_far = prompt.rsplit("Question: count the tie", 1)[1]
            done = sum(line in so_far for line in wanted)
            good = done < len(wanted) and step == wanted[done]
            replies.append([(prompt, -1.0), (text[cut:], -0.1 if good else -30.0)])
        return echo(*replies)

    server.route("/completions", score)
    answer = agent_for(server.url, mode="saycan").ask(photo, "count the tie")
    assert answer.ok and answer.text == "2"
    assert [s.chosen for s in answer.saycan.steps] == wanted
    assert all(r["echo"] and r["max_tokens"] == 0 for r in server.posted("/completions"))
