"""Soak of ``loupe serve``: many clients for minutes of mixed work; nothing lost or mixed up, workers free
at the end, the server's memory flat.

    python3 bench/bench_soak.py [--minutes 10] [--clients 50] [--timeout 30]   # needs `loupe models pull`

Starts ``python -m loupe.agent.cli serve`` (uvicorn, the lite vision tier) on 127.0.0.1 with a scripted planner:
a loopback OpenAI-compatible server (``tests/support/openai_server.py``) that answers each known question's
program at once and never answers the "slow" question (so that request runs into the server's time
limit; the planner's speed is not what is measured here, the embedded LLM would make 2 cores the limit).
Each client has its own loopback address (127.0.0.N, so the per-client approval cap is per client) and
loops until the time is up over a seeded mix of:

* ``ask``: a question about a photo; the answer must equal that (photo, question)'s answer given alone
  before the soak, and the result must name the client's own question;
* ``program``: ``/v1/run`` of an EVAL program over numbers only this request uses; the answer must be
  its own number (any other request's would show a mix-up);
* ``approve``: an edit asking for approval (202), approved by its program's SHA-256: an edited image;
* ``reject``: the same, rejected: status ``rejected``;
* ``disconnect``: an event stream closed after its first event (a question) or at ``approval_required``
  (an edit); the run must end (cancelled, or done if it was quicker than the client);
* ``timeout``: the question the planner never answers: 504 at the server's limit, and the run must end
  ``timed_out`` (the LLM call stops at the request's limit).

A 503 (busy) or 429 is counted and retried after its ``Retry-After``; a 504 of an ordinary request (the
machine too busy to answer it in time) is counted ``timed_out`` and its run must end so; anything else
unexpected is ``lost``. Each run a client leaves (a disconnect, a 504) is followed at once until it ends
as it should (the server keeps only its last 200 finished runs). At the end ``/v1/health`` must show no
run working, admitted or waiting for approval; the server's RSS and the number of runs it keeps are
sampled every 5 s (start, middle, end).
"""

from __future__ import annotations

import argparse
from collections import Counter
import json
from pathlib import Path
import random
import re
import sys
import threading
import time

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests" / "support")]

from bench_service import PHOTOS, Server  # noqa: E402

QUESTIONS = {  # the scripted planner's programs
    "How many people are in the picture?": "BOX0=LOC(image=IMAGE,object='person')\nANSWER0=COUNT(box=BOX0)\n"
                                           "FINAL_RESULT=RESULT(var=ANSWER0)",
    "Count the horses.": "BOX0=LOC(image=IMAGE,object='horse')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)",
    "Is there a dog here?": "BOX0=LOC(image=IMAGE,object='dog')\nANSWER0=COUNT(box=BOX0)\n"
                            "ANSWER1=EVAL(expr=\"'yes' if {ANSWER0} > 0 else 'no'\")\nFINAL_RESULT=RESULT(var=ANSWER1)",
    "Blur every face": "OBJ0=FACEDET(image=IMAGE)\nIMAGE0=BLUR(image=IMAGE,object=OBJ0)\nFINAL_RESULT=RESULT(var=IMAGE0)",
}
EDIT, SLOW = "Blur every face", "Describe this picture at great length."
PHOTO_NAMES = ("dog.jpg", "horses.jpg", "person.jpg", "family_dinner.jpg", "skateboarder.jpg")
KINDS = ("ask", "program", "approve", "reject", "disconnect", "timeout")
WEIGHTS = (35, 20, 12, 8, 15, 5)
TERMINAL = ("ok", "partial", "failed", "invalid_program", "rejected", "timed_out", "cancelled", "error",
            "unsupported")


def scripted_llm():
    """The loopback planner: the program of a known question at once; the slow question never answered."""
    from openai_server import HANG, ScriptedServer, chat

    llm = ScriptedServer()

    def reply(body: dict):
        text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        asked = re.findall(r"Question: ([^\n]*)\nProgram:", text)
        question = asked[-1].strip() if asked else ""
        if question == SLOW or question not in QUESTIONS:
            return HANG
        return chat("```\n" + QUESTIONS[question] + "\n```")

    llm.route("/chat/completions", reply)
    threading.Thread(target=llm.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return llm


class Client:
    """One soak client: its own connection from its own loopback address, a seeded mix of work."""

    def __init__(self, index: int, url: str, expected: dict, seed: int, timeout_s: float):
        import httpx

        self.index, self.url, self.expected, self.timeout_s = index, url, expected, timeout_s
        self.photos = sorted({name for name, _ in expected})
        self.random = random.Random(seed * 1000 + index)
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{2 + index}")
        self.http = httpx.Client(base_url=url, transport=transport, timeout=300)
        self.counts: Counter = Counter()
        self.problems: list[str] = []
        self.ends: Counter = Counter()  # how the runs it left (disconnects, 504s) ended
        self.nonce = 0

    def loop(self, until: float) -> None:
        turn = 0
        while time.monotonic() < until:
            kind = KINDS[(self.index + turn) % len(KINDS)] if turn < len(KINDS) else \
                self.random.choices(KINDS, WEIGHTS)[0]  # every kind first, then the mix
            turn += 1
            try:
                outcome = getattr(self, kind)()
            except Exception as error:  # a request the server lost or broke: counted, never raised
                outcome = "lost"
                self.problems.append(f"{kind}: {type(error).__name__}: {error}"[:300])
            self.counts[(kind, outcome)] += 1

    # ---- the kinds of work -------------------------------------------------------------------------

    def _photo(self, name: str | None = None):
        name = name or self.random.choice(self.photos)
        return name, {"image": (name, (PHOTOS / name).read_bytes(), "image/jpeg")}

    def _busy(self, response) -> bool:
        """A 503 / 429: wait what Retry-After asks (at most 5 s) and say so."""
        if response.status_code in (429, 503):
            time.sleep(min(5.0, float(response.headers.get("retry-after", "1") or 1)))
            return True
        return False

    def _ended(self, kind: str, run_id: str, allowed: tuple) -> None:
        """Wait (up to the time limit and 15 s) for a run this client left to end, as one of ``allowed``.
        Checked at once: the server keeps only its last 200 finished runs."""
        deadline = time.monotonic() + self.timeout_s + 15
        while True:
            status = self.http.get(f"/v1/runs/{run_id}").json().get("status")
            if status in allowed:
                self.ends[status] += 1
                return
            if status in TERMINAL or status is None or time.monotonic() > deadline:
                self.ends["unended" if status not in TERMINAL else "other"] += 1
                self.problems.append(f"{kind} {run_id}: ended {status!r}, expected one of {allowed}")
                return
            time.sleep(0.5)

    def _unexpected(self, kind: str, response) -> str:
        """A 504 (the server's documented answer past its limit; the run must then end ``timed_out``), or
        a lost request."""
        if response.status_code == 504 and response.json().get("limit") == "request_timeout_s":
            self._ended(kind, response.json()["id"], ("timed_out",))
            return "timed_out"
        self.problems.append(f"{kind}: HTTP {response.status_code}: {response.text[:200]} {response.json().get('errors') if response.status_code == 200 else ''}")
        return "lost"

    def ask(self) -> str:
        question = self.random.choice([q for q in QUESTIONS if q != EDIT])
        name, files = self._photo()
        response = self.http.post("/v1/ask", data={"query": question}, files=files)
        if self._busy(response):
            return "busy"
        if response.status_code != 200:
            return self._unexpected("ask", response)
        body = response.json()
        if body.get("query") != question:
            self.problems.append(f"ask: asked {question!r}, got the result of {body.get('query')!r}")
            return "mixed_up"
        if body.get("answer") != self.expected[(name, question)]:
            self.problems.append(f"ask: {name} {question!r}: {body.get('answer')!r}, alone "
                                 f"{self.expected[(name, question)]!r}")
            return "wrong"
        return "ok"

    def program(self) -> str:
        self.nonce += 1
        a, b = self.index * 1_000_003 + self.nonce, self.random.randrange(1, 1000)
        program = f"ANSWER0=EVAL(expr='{a} * 7 + {b}')\nFINAL_RESULT=RESULT(var=ANSWER0)\n"
        response = self.http.post("/v1/run", data={"program": program}, files=self._photo("dog.jpg")[1])
        if self._busy(response):
            return "busy"
        if response.status_code != 200:
            return self._unexpected("program", response)
        answer = response.json().get("answer")
        if answer != a * 7 + b:
            self.problems.append(f"program: expected {a * 7 + b}, got {answer!r}")
            return "mixed_up"
        return "ok"

    def _edit(self, kind: str):
        response = self.http.post("/v1/ask", data={"query": EDIT, "require_approval": "true"},
                                  files=self._photo("person.jpg")[1])
        if self._busy(response):
            return None, "busy"
        if response.status_code != 202:
            return None, self._unexpected(kind, response)
        paused = response.json()
        if paused.get("query", EDIT) != EDIT or "BLUR(" not in paused.get("program", "") or \
                paused["approve_url"].split("program_sha256=")[1] != paused["program_sha256"]:
            self.problems.append(f"{kind}: an approval request for another program: {paused}"[:300])
            return None, "mixed_up"
        return paused, None

    def approve(self) -> str:
        paused, outcome = self._edit("approve")
        if paused is None:
            return outcome
        done = self.http.post(paused["approve_url"])
        if done.status_code != 200:
            return self._unexpected("approve", done)
        body = done.json()
        if body.get("id") != paused["id"] or body.get("answer_type") != "image" or body.get("status") != "ok":
            self.problems.append(f"approve: {body}"[:300])
            return "wrong"
        if self.random.random() < 0.2:  # now and then fetch the edited image too
            image = self.http.get(body["image_url"])
            if image.status_code != 200 or not image.content.startswith(b"\x89PNG"):
                return self._unexpected("approve image", image)
        return "ok"

    def reject(self) -> str:
        paused, outcome = self._edit("reject")
        if paused is None:
            return outcome
        done = self.http.post(paused["reject_url"])
        if done.status_code != 200 or done.json().get("status") != "rejected" or done.json().get("id") != paused["id"]:
            return self._unexpected("reject", done)
        return "ok"

    def disconnect(self) -> str:
        edit = self.random.random() < 0.5
        question = EDIT if edit else self.random.choice([q for q in QUESTIONS if q != EDIT])
        data = {"query": question, **({"require_approval": "true"} if edit else {})}
        run_id = None
        with self.http.stream("POST", "/v1/ask", data=data, files=self._photo("person.jpg")[1],
                              headers={"Accept": "text/event-stream"}) as stream:
            if self._busy(stream):
                return "busy"
            for line in stream.iter_lines():
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[6:])
                if event["event"] == "run":
                    run_id = event["id"]
                    if not edit:
                        break      # gone right after the run started
                if event["event"] in ("approval_required", "done"):
                    break          # gone while the edit waits (or it was already done)
        if run_id is None:
            self.problems.append(f"disconnect: HTTP {stream.status_code} and no run event")
            return "lost"
        self._ended("disconnect", run_id, TERMINAL)
        return "ok"

    def timeout(self) -> str:
        name, files = self._photo()
        response = self.http.post("/v1/ask", data={"query": SLOW}, files=files)
        if self._busy(response):
            return "busy"
        body = response.json()
        if response.status_code != 504 or body.get("limit") != "request_timeout_s":
            return self._unexpected("timeout", response)
        self._ended("timeout", body["id"], ("timed_out",))
        return "ok"


class Memory:
    """The server's RSS every ``every`` seconds: (seconds since start, MB, finished runs it keeps)."""

    def __init__(self, server: Server, every: float = 5.0):
        self.server, self.every, self.samples = server, every, []
        self._stop = threading.Event()
        self._start = time.monotonic()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while True:
            kept = self.server.health()["results_kept"]
            self.samples.append((round(time.monotonic() - self._start, 1), round(self.server.rss_mb(), 1), kept))
            if self._stop.wait(self.every):
                return

    def stop(self):
        self._stop.set()
        self.thread.join()

    def at(self, seconds: float) -> float:
        return min(self.samples, key=lambda s: abs(s[0] - seconds))[1]


def reference(url: str, photos=PHOTO_NAMES) -> dict:
    """Each (photo, question)'s answer, asked alone before the soak."""
    import httpx

    expected = {}
    with httpx.Client(base_url=url, timeout=300) as http:
        for name in photos:
            for question in (q for q in QUESTIONS if q != EDIT):
                for _ in range(3):  # a first call of a model may be slow on a busy machine: try again
                    response = http.post("/v1/ask", data={"query": question},
                                         files={"image": (name, (PHOTOS / name).read_bytes(), "image/jpeg")})
                    if response.status_code != 504:
                        break
                response.raise_for_status()
                expected[(name, question)] = response.json()["answer"]
    return expected


def settle(url: str, wait_s: float) -> dict:
    """After the load: wait (up to ``wait_s``) until nothing works; the server's health then."""
    import httpx

    deadline = time.monotonic() + wait_s
    while True:
        health = httpx.get(url + "/v1/health", timeout=10).json()
        if health["running"] == health["admitted"] == health["awaiting_approval"] == 0 or \
                time.monotonic() > deadline:
            return {"health": health}
        time.sleep(1.0)


def soak(seconds: float, clients: int, timeout_s: float = 30.0, seed: int = 0, sample_s: float = 5.0,
         photos=PHOTO_NAMES) -> dict:
    """Run the soak; returns the counts, the problems, the end state and the RSS samples. ``photos``:
    those the questions are asked about (the edits use person.jpg, the EVAL runs dog.jpg)."""
    from concurrent.futures import ThreadPoolExecutor

    llm = scripted_llm()
    server = Server(["--timeout", str(timeout_s), "--approval-timeout", "600"], llm=llm.url)
    try:
        expected = reference(server.url, photos)
        memory = Memory(server, sample_s)
        team = [Client(i, server.url, expected, seed, timeout_s) for i in range(clients)]
        started = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda c: c.loop(started + seconds), team))
        load_s = time.monotonic() - started
        end = settle(server.url, timeout_s + 30)
        memory.stop()
    finally:
        server.stop()
        llm.stopping.set()
        llm.shutdown()
    counts: Counter = Counter()
    for client in team:
        counts.update(client.counts)
    outcomes, ends = Counter(), Counter()
    for (_, outcome), n in counts.items():
        outcomes[outcome] += n
    for client in team:
        ends.update(client.ends)
    return {"seconds": round(load_s, 1), "clients": clients, "timeout_s": timeout_s,
            "operations": sum(counts.values()), "outcomes": dict(outcomes),
            "by_kind": {kind: {o: n for (k, o), n in sorted(counts.items()) if k == kind} for kind in KINDS},
            "left_runs_ended": dict(ends), "problems": [p for c in team for p in c.problems][:50], **end,
            "rss_mb": {"start": memory.samples[0][1], "middle": memory.at(load_s / 2), "end": memory.samples[-1][1],
                       "peak": max(mb for _, mb, _ in memory.samples)},
            "rss_samples": memory.samples, "expected_answers": {f"{p} | {q}": a for (p, q), a in expected.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=30.0, help="the server's request time limit (s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", dest="json_out", help="also write the report to this file")
    args = parser.parse_args()
    report = soak(args.minutes * 60, args.clients, args.timeout, args.seed)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text)
    o, h, rss = report["outcomes"], report["health"], report["rss_mb"]
    print(f"\n{report['operations']} operations from {report['clients']} clients in {report['seconds']} s: "
          f"ok {o.get('ok', 0)}, busy {o.get('busy', 0)}, lost {o.get('lost', 0)}, wrong {o.get('wrong', 0)}, "
          f"mixed up {o.get('mixed_up', 0)}; runs left by their clients ended {report['left_runs_ended']}; at the end running "
          f"{h.get('running')}, admitted {h.get('admitted')}, awaiting approval {h.get('awaiting_approval')}; "
          f"RSS MB start {rss['start']}, middle {rss['middle']}, end {rss['end']}, peak {rss['peak']}")


if __name__ == "__main__":
    main()
