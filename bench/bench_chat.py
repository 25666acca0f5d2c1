"""Conversations on ``loupe serve``: a follow-up turn's warm latency, and what a long session costs.

    python3 bench/bench_chat.py [--turns 20] [--sessions 3] [--llm local]     # needs `loupe models pull`

Serves the real app (uvicorn on 127.0.0.1, a free port; the default LLM: the embedded model with the
ranking planner, the lite tier, the program cache on as ``loupe serve`` has it) from a temporary folder, warms
it with one ask, then runs SESSIONS conversations of TURNS turns each over two test photos (questions, edits,
references, undo, ellipsis, a switch of photo) through ``POST /v1/ask`` with a session id. Reports the
latency of the follow-up turns (every turn after the first) per session (p50, p95) and by kind, and, after
each turn of the first session, the server's resident memory and the size of the session store
(``sessions.sqlite`` with its WAL, and ``session-images/``), of the session's checkpoint rows and of its state.
The server keeps ``--keep-runs`` finished runs (their executions, for clients to fetch), so that the memory
measured is the sessions'.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import socket
import statistics
import sys
import tempfile
import threading
import time

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT / "tests" / "data" / "photos"
#: one conversation's turns, cycled: (request, kind)
SCRIPT = [("how many faces are there?", "question"), ("blur them", "reference edit"), ("undo", "undo"),
          ("and dogs?", "ellipsis"), ("what about the people?", "ellipsis"), ("use the second photo", "switch"),
          ("is there a dog?", "question"), ("blur it", "reference edit"), ("go back", "undo"),
          ("and cats?", "ellipsis"), ("use the first photo again", "switch"),
          ("how many people are there?", "question")]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def serve(app):
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def conversation(client, url: str, session: str, turns: int, sizes=None) -> list[dict]:
    """One session of ``turns`` turns; each row: request, kind, seconds, status, answer (and sizes when asked)."""
    rows = []
    for index in range(turns):
        text, kind = SCRIPT[index % len(SCRIPT)]
        files = None
        if index == 0:
            files = {name: (photo, (PHOTOS / photo).read_bytes(), "image/jpeg")
                     for name, photo in (("image", "family_dinner.jpg"), ("right", "dog.jpg"))}
        start = time.perf_counter()
        response = client.post(url + "/v1/ask", data={"query": text, "session": session}, files=files, timeout=300)
        seconds = time.perf_counter() - start
        body = response.json()
        row = {"turn": index + 1, "request": text, "kind": kind, "s": round(seconds, 3), "status": body.get("status"),
               "said": body.get("said"), "read": body.get("resolved_query")}
        if sizes is not None:
            row.update(sizes())
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--llm", default="local")
    parser.add_argument("--keep-runs", type=int, default=8, help="Finished runs the server keeps (max_results).")
    parser.add_argument("--json", dest="json_path", help="Also write the rows to this file.")
    args = parser.parse_args()

    import httpx

    from loupe.agent.service.app import create_app
    from loupe.agent.service.config import ServiceConfig
    from loupe.agent.service.engine import Engine
    from loupe.tools.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="loupe-bench-chat-"))
    # finished runs keep their executions for clients (max_results); few here, so that what grows is the sessions'
    config = ServiceConfig(llms=(args.llm,), cache_path=folder / "programs.sqlite", settings=Settings.from_env(),
                           max_results=args.keep_runs)
    engine = Engine(config)
    engine.warm_up()
    server, url = serve(create_app(engine=engine, mcp=False))
    client = httpx.Client()
    warm = client.post(url + "/v1/ask", data={"query": "how many dogs are there?"},
                       files={"image": ("dog.jpg", (PHOTOS / "dog.jpg").read_bytes(), "image/jpeg")}, timeout=300)
    assert warm.status_code == 200, warm.text
    base_rss = rss_mb()

    def sizes() -> dict:
        store = sum((folder / f).stat().st_size for f in ("sessions.sqlite", "sessions.sqlite-wal")
                    if (folder / f).exists())
        sessions = engine_sessions(server)
        state = sessions.store.load("bench-0") or {}
        with sessions.store.checkpointer.cursor() as cursor:
            cursor.execute("SELECT count(*), coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM checkpoints "
                           "WHERE thread_id = 'bench-0'")
            checkpoints, checkpoint_bytes = cursor.fetchone()
        return {"rss_mb": round(rss_mb(), 1), "store_kb": round(store / 1024, 1), "checkpoints": checkpoints,
                "checkpoint_kb": round(checkpoint_bytes / 1024, 2),
                "images_kb": round(folder_bytes(folder / "session-images") / 1024, 1),
                "state_kb": round(len(json.dumps(state, default=str)) / 1024, 2)}

    report = {"turns": args.turns, "sessions": args.sessions, "llm": args.llm, "base_rss_mb": round(base_rss, 1),
              "per_session": []}
    all_rows = []
    for number in range(args.sessions):
        rows = conversation(client, url, f"bench-{number}", args.turns, sizes if number == 0 else None)
        all_rows.append(rows)
        follow = [r["s"] for r in rows[1:]]
        report["per_session"].append({"session": number + 1, "follow_up_p50_s": round(statistics.median(follow), 3),
                                      "follow_up_p95_s": round(sorted(follow)[int(0.95 * (len(follow) - 1))], 3),
                                      "first_turn_s": rows[0]["s"],
                                      "statuses": {s: sum(1 for r in rows if r["status"] == s)
                                                   for s in sorted({r["status"] for r in rows})}})
    warm_rows = [r for rows in all_rows[1:] for r in rows[1:]] or [r for r in all_rows[0][1:]]
    report["by_kind_p50_s_warm"] = {kind: round(statistics.median([r["s"] for r in warm_rows if r["kind"] == kind]), 3)
                                    for kind in sorted({r["kind"] for r in warm_rows})}
    first = all_rows[0]
    kept = ("rss_mb", "store_kb", "images_kb", "state_kb", "checkpoints", "checkpoint_kb")
    report["growth"] = {f"after turn {r['turn']}": {k: r[k] for k in kept}
                        for r in first if r["turn"] in (1, 5, 10, 20, 50, 100, 200, 300, args.turns)}
    print(json.dumps(report, indent=2))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps({"report": report, "rows": all_rows}, indent=2))
    for row in first:
        print(f"{row['turn']:>2} {row['s']:6.3f}s {row['status']:<20} {row['request']!r} -> {row['read']!r} "
              f"{(row['said'] or '')[:40]!r}", file=sys.stderr)
    server.should_exit = True
    engine.close()


def engine_sessions(server):
    """The app's Sessions (``app.state.sessions``) behind the running uvicorn server."""
    app = server.config.app
    while not hasattr(app, "state"):
        app = app.app   # the Guard wraps the FastAPI app
    return app.state.sessions


if __name__ == "__main__":
    main()
