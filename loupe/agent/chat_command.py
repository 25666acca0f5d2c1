"""``loupe chat IMAGE [IMAGE2]``: a conversation with photos in the terminal, or driven from a pipe.

Each line is a request ("how many dogs are there?", "blur them", "undo", "and cats?"); lines starting with
``/`` are commands: ``/undo``, ``/save FILE`` (the current image), ``/program`` (the last program),
``/history``, ``/images``, ``/help``, ``/quit``. With ``--json`` every line gets exactly one JSON object on
one line: a turn in the shape of ``loupe ask --json`` plus ``session``, ``turn``, ``resolved_query``,
``references`` and ``image_key``; a command ``{"command": ..., "ok": ...}``. Edited images are written as
``turn-N.png`` into ``--out-dir``. The session is stored (``--store``, default Loupe's cache) and can be
continued with ``--session ID``.
"""

from __future__ import annotations

import json
from pathlib import Path
import sys

import click

from loupe.agent.ask_command import _ask_person, _make_llm, _progress, answer_json
from loupe.agent.cli_io import EXIT_BAD_INPUT, EXIT_OK, out
from loupe.programs.errors import InputError, LoupeError
from loupe.programs.values import safe_text

HELP = ("requests: questions or edits, one per line ('how many dogs?', 'blur them', 'and cats?', 'undo', "
        "'use the first photo again')\ncommands: /undo  /save FILE  /program  /history  /images  /help  /quit")
STORE_FILE = "sessions.sqlite"
IMAGES_FOLDER = "session-images"


@click.command()
@click.argument("image_paths", metavar="IMAGE [IMAGE2]", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--llm", "llm_spec", default=None,
              help="local | openai:MODEL | ollama:MODEL | URL of an OpenAI-compatible server (default: "
                   "$LOUPE_LLM or local).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line of input (loupe ask --json's shape).")
@click.option("--approve", is_flag=True, help="Ask before running steps that edit the image.")
@click.option("--no-cache", is_flag=True, help="Always plan with the LLM (do not reuse cached programs).")
@click.option("--planner", type=click.Choice(["auto", "rank", "generate"]), default="auto", show_default=True,
              help="Program mode's planner (see `loupe ask --help`).")
@click.option("--out-dir", default="chat-images", show_default=True, help="Where each turn's image is written.")
@click.option("--session", "session_id", default=None, help="Continue (or name) a stored session.")
@click.option("--store", default=None, help="Folder of the stored sessions (default: Loupe's cache folder).")
@click.option("--quiet", is_flag=True, help="Do not print progress on stderr.")
@click.option("--llm-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds one call to a remote LLM may take (remote models only)  [default: 180].")
@click.option("--vlm", "vlm_spec", default=None,
              help="A multimodal model for open questions (VQA, CAPTION): ollama:MODEL | openai:MODEL | URL of an "
                   "OpenAI-compatible server that takes images (docs/vlm.md; default: $LOUPE_VLM, none).")
def chat(image_paths, llm_spec, as_json, approve, no_cache, planner, out_dir, session_id, store, quiet, llm_timeout,
         vlm_spec):
    """Talk about IMAGE (and IMAGE2): questions, edits and follow-ups ('blur them', 'and cats?', 'undo'),
    one request per line, from the terminal or a pipe."""
    from loupe.agent.cli import settings_of

    settings = settings_of().with_(vlm=vlm_spec) if vlm_spec else settings_of()
    sys.exit(run_chat(image_paths, llm_spec, as_json, approve, no_cache, planner, out_dir, session_id, store, quiet,
                      llm_timeout, settings=settings))


def run_chat(image_paths, llm_spec, as_json, approve, no_cache, planner, out_dir, session_id, store, quiet,
             llm_timeout=None, *, settings) -> int:
    """``loupe chat``; returns the exit code once the input ends (or ``/quit``)."""
    from loupe.agent.api import Agent
    from loupe.agent.chat.images import ContentStore
    from loupe.agent.chat.store import SessionStore
    from loupe.agent.chat.conversation import Conversation
    from loupe.programs.images import load_image

    if not image_paths and not session_id:
        raise InputError("give one or two photos (loupe chat IMAGE [IMAGE2]), or --session ID to continue one")
    if len(image_paths) > 2:
        raise InputError(f"a conversation starts with one or two photos; got {len(image_paths)}")
    photos = [load_image(path) for path in image_paths]
    root = Path(store) if store else settings.cache_root()
    sessions, images = SessionStore(root / STORE_FILE), ContentStore(root / IMAGES_FOLDER)
    with Agent(llm=_make_llm(llm_spec, llm_timeout, settings), use_cache=not no_cache, planner=planner,
               approve=_ask_person if approve else None, settings=settings) as agent:
        if session_id and sessions.load(session_id) is not None:
            conversation = Conversation.resume(agent, sessions, images, session_id)
            for photo in photos:
                conversation.add_photo(photo)
        elif photos:
            conversation = Conversation.start(agent, sessions, images, photos, session_id)
        else:
            raise InputError(f"no stored session {session_id!r}; start one with loupe chat IMAGE")
        chat = _Chat(conversation, Path(out_dir), as_json, quiet, agent.deps.planner_kind)
        try:
            return chat.loop()
        finally:
            sessions.close()


class _Chat:
    def __init__(self, conversation, out_dir: Path, as_json: bool, quiet: bool, planner_kind: str):
        self.conversation, self.out_dir, self.as_json, self.quiet = conversation, out_dir, as_json, quiet
        self.planner_kind = planner_kind
        self.interactive = sys.stdin is not None and sys.stdin.isatty()

    def loop(self) -> int:
        if self.interactive:
            import readline  # noqa: F401  (line editing and history for input())

            click.echo(f"session {self.conversation.id}; {HELP}", err=True)
        code = EXIT_OK
        while True:
            line = self._read()
            if line is None:
                return code
            line = line.strip()
            if not line:
                continue
            if line.split()[0] in ("/quit", "/exit"):
                return code
            try:
                self._command(line) if line.startswith("/") else self._turn(line)
            except (InputError, LoupeError) as error:   # this line's fault: say so, keep the conversation
                code = EXIT_BAD_INPUT
                message = safe_text(str(error))
                self._say({"ok": False, "status": "error", "query": line, "errors": [message]}, "")
                click.echo(f"error: {message}", err=True)

    def _read(self) -> str | None:
        if self.interactive:
            try:
                return input("you> ")
            except EOFError:
                return None
        line = sys.stdin.readline() if sys.stdin is not None else ""
        return line or None

    def _turn(self, text: str) -> None:
        from loupe.agent.api import Answer, check_query

        check_query(text)
        turn = self.conversation.turn(text, on_event=None if self.quiet or self.as_json else _progress)
        path = self._write(turn.number, turn.image) if turn.image is not None else None
        answer = turn.answer_object or Answer(turn.query, "program", turn.status, turn.answer, turn.image,
                                              program=turn.program, reason=turn.reason)
        record = {**answer_json(answer, text, "program", path, self.planner_kind), "session": turn.session,
                  "turn": turn.number, "resolved_query": turn.query, "references": list(turn.references),
                  "image_key": turn.image_key}
        if turn.status == "needs_clarification":
            said = f"? {turn.reason}"
        elif turn.answered or turn.answer_object is None:
            said = " ".join(filter(None, [safe_text(turn.answer), f"(wrote {path})" if path else ""]))
            if turn.status == "partial" and not self.as_json:
                click.echo(f"note: {safe_text(turn.reason)}", err=True)
        elif turn.status == "unsupported":
            said = f"unsupported: {safe_text(turn.reason)}"
        elif turn.status == "rejected":
            said = f"not run: {safe_text(turn.answer)}"
        else:
            said = ""
            click.echo("error: " + "; ".join(safe_text(e) for e in answer.errors or [turn.status]), err=True)
        self._say(record, said)

    def _command(self, line: str) -> None:
        name, _, rest = line.partition(" ")
        conversation = self.conversation
        if name == "/undo":
            return self._turn("undo")
        if name == "/save":
            if not rest.strip():
                raise InputError("/save needs a file name, e.g. /save result.png")
            conversation.image().to_pil().save(rest.strip())
            return self._say({"command": "save", "ok": True, "path": rest.strip()}, f"wrote {rest.strip()}")
        if name == "/program":
            program = conversation.state.get("program", "")
            return self._say({"command": "program", "ok": True, "program": program}, program or "(no program yet)")
        if name == "/history":
            turns = conversation.turns
            lines = [f"{t['turn']}. {t['text']} -> {t['answer'] or t['status']}" for t in turns]
            return self._say({"command": "history", "ok": True, "turns": turns}, "\n".join(lines) or "(no turns)")
        if name == "/images":
            rows = [{**entry, "current": i == conversation.state["current"]}
                    for i, entry in enumerate(conversation.state["images"])]
            text = "\n".join(f"{'*' if r['current'] else ' '} {i}: {r['label']} {r['key'][:12]}"
                             for i, r in enumerate(rows))
            return self._say({"command": "images", "ok": True, "images": rows}, text)
        if name == "/help":
            return self._say({"command": "help", "ok": True, "help": HELP}, HELP)
        raise InputError(f"unknown command {name!r}; {HELP.splitlines()[1]}")

    def _write(self, number: int, image) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"turn-{number}.png"
        image.to_pil().save(path)
        return path

    def _say(self, record: dict, text: str) -> None:
        if self.as_json:
            out(json.dumps(record, default=str))
        elif text:
            out(text)
