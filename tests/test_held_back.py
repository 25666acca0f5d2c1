"""No photo held back for measurement is named anywhere in the repository.

The shared photo pool lists photos kept for measuring Loupe on photos it was never tuned on: they stay out of
tests and test photos, dev and oracle sets, calibration sets, threshold tables, examples and docs.
tests/data/held_back_sha256.txt holds the sha256 of each listed name (the repository never spells them; the
list itself is not in a clone, and bench/held_back_hashes.py writes or checks the hash file from it): every
tracked path, and every token of a tracked text file that looks like an image's file name, is hashed and looked
up there."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HASHES = ROOT / "tests" / "data" / "held_back_sha256.txt"
FILE_NAME = re.compile(rb"[\w.-]+\.(?:jpe?g|png)", re.IGNORECASE)
SEPARATORS = frozenset(b"-_.")


def digest(name: bytes) -> str:
    return hashlib.sha256(name).hexdigest()


def held_back_hashes() -> set[str]:
    lines = HASHES.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no tracked files to check")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [path for path in listed.decode("utf-8", "surrogateescape").split("\0") if path]


def held_back_names_in(text: bytes, hashes: set[str]) -> set[str]:
    """The held-back names among ``text``'s file-name tokens, and each token's tails after a separator
    (``copy_of-NAME.jpg`` names ``NAME.jpg`` too)."""
    found = set()
    for token in FILE_NAME.findall(text):
        tails = [token] + [token[i + 1:] for i, byte in enumerate(token) if byte in SEPARATORS]
        found.update(tail.decode("utf-8", "replace") for tail in tails if digest(tail) in hashes)
    return found


def test_the_hash_list_is_well_formed():
    hashes = held_back_hashes()
    assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)


def test_the_lookup_finds_a_name_in_a_path_or_in_text():
    hashes = {digest(b"12345.jpg"), digest(b"678-input.png")}
    text = b'{"image": "12345.jpg"} see photos/copy_of-678-input.png; not 112345.jpg nor 12345.jpeg'
    assert held_back_names_in(text, hashes) == {"12345.jpg", "678-input.png"}


def test_no_tracked_path_or_text_file_names_a_held_back_photo():
    hashes = held_back_hashes()
    named = {}
    for path in tracked_files():
        found = held_back_names_in(path.encode("utf-8", "surrogateescape"), hashes)
        file = ROOT / path
        if file.is_file() and not file.is_symlink():
            data = file.read_bytes()
            if b"\0" not in data[:8192]:  # a text file (images, arrays and other binaries are not read)
                found |= held_back_names_in(data, hashes)
        if found:
            named[path] = sorted(found)
    assert not named, f"photos held back for measurement named in the repository: {named}"

