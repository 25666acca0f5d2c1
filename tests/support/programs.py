"""Comparing planned programs in tests."""

from __future__ import annotations

import re


def up_to_the_question(program_text: str) -> str:
    """The program with the question a VQA or PICK_TEXT step passes on replaced: programs equal but for the
    words of that question (the request's own wording, passed on as asked) are the same program."""
    return re.sub(r"question=(['\"]).*?\1", "question=Q", program_text)
