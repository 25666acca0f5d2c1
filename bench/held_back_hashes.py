"""Keep tests/data/held_back_sha256.txt in step with the shared pool's list of held-back photos.

    python3 bench/held_back_hashes.py [--list PATH] [--check]

The list lives beside the repository (``../shared/data/held_back_images.txt``; a user's clone has none), so the
test suite reads only the hashes; this script writes them from the list, or with ``--check`` exits 1 when they
differ from it.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HASHES = ROOT / "tests" / "data" / "held_back_sha256.txt"
HEADER = ("# sha256 (hex) of each name on the shared pool's list of photos held back for measuring Loupe on\n"
          "# photos it was never tuned on, one a line, sorted; tests/test_held_back.py checks that no tracked file\n"
          "# names one of them. Written by bench/held_back_hashes.py from the list.\n")


def hashes_of(list_path: Path) -> list[str]:
    lines = list_path.read_text(encoding="utf-8").splitlines()
    names = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return sorted(hashlib.sha256(name.encode("utf-8")).hexdigest() for name in names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", type=Path, default=ROOT.parent / "shared" / "data" / "held_back_images.txt")
    parser.add_argument("--check", action="store_true", help="exit 1 when the hash file is out of date")
    args = parser.parse_args()
    text = HEADER + "".join(h + "\n" for h in hashes_of(args.list))
    if args.check:
        current = HASHES.read_text(encoding="utf-8")
        same = {l for l in current.splitlines() if l and not l.startswith("#")} == set(hashes_of(args.list))
        print("up to date" if same else f"{HASHES} is out of date: run bench/held_back_hashes.py")
        return 0 if same else 1
    HASHES.write_text(text, encoding="utf-8")
    print(f"wrote {HASHES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
