"""Choose the threshold and margin of ``loupe.agent.planning.object_words`` (reading an object word outside the
vocabulary as a COCO class by meaning) on our own labelled words (``bench/rephrase/vocab_calibration.jsonl``:
kinds, roles, British and US words, plurals, misspellings and words that must not map; never a held-out or
benchmark wording).

    python bench/rephrase/calibrate_vocab.py [--show]

Each word is read as the planner reads it: mended by the reading (``read_request("is there a WORD")``), then the
vocabulary's exact name (a word the lexicon reads otherwise, 'background', stays unread), then a misspelling of a
class name, then by meaning. The (threshold, margin) kept is the
one with the fewest errors on the rows marked ``tune`` when a wrong mapping (a word of no class mapped, or mapped
to another class) costs as much as a missed one (a word of a class left unmapped); ties go to the higher
threshold, then the higher margin (a wrong reading is seen as a wrong answer, a missed one is reported). The
errors are then reported on the ``test`` rows; set ``THRESHOLD`` and ``MARGIN`` in object_words.py to the
printed values.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
CALIBRATION = ROOT / "bench" / "rephrase" / "vocab_calibration.jsonl"
THRESHOLDS = [t / 100 for t in range(30, 96)]
MARGINS = [m / 100 for m in range(0, 21)]


def _read(word: str) -> tuple[str, str | None, tuple]:
    """(the word as the reading mended it, its class by name or spelling or None, the meaning scores)."""
    from loupe.agent.planning.object_words import by_spelling, meaning_scores, readable
    from loupe.agent.planning.query_facts import lookup
    from loupe.agent.planning.reading import read_request

    mended = read_request(f"is there a {word}").words[-1]
    exact = lookup(mended)
    if exact or not readable(mended):
        return mended, exact[0] if exact else None, ()
    spelled = by_spelling(mended)
    return mended, spelled.name if spelled else None, () if spelled else meaning_scores(mended) or ()


def _mapped(read, threshold: float, margin: float) -> str | None:
    _, found, scores = read
    if found or len(scores) < 2:
        return found
    (best, score), (_, second) = scores[0], scores[1]
    return best if best is not None and score >= threshold and score - second >= margin else None


def errors(rows, reads, threshold: float, margin: float) -> tuple[int, int, int]:
    """(wrong mappings, missed mappings, right ones) over ``rows``."""
    wrong = missed = right = 0
    for row, read in zip(rows, reads):
        got = _mapped(read, threshold, margin)
        if got == row["class"] and got is not None:
            right += 1
        elif got is None:
            missed += row["class"] is not None
        else:
            wrong += 1
    return wrong, missed, right


def choose(rows, reads) -> tuple[float, float]:
    return min(((t, m) for t in THRESHOLDS for m in MARGINS),
               key=lambda tm: (sum(errors(rows, reads, *tm)[:2]), -tm[0], -tm[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every word with its reading")
    args = parser.parse_args()
    rows = [json.loads(line) for line in CALIBRATION.read_text(encoding="utf-8").splitlines() if line.strip()]
    reads = [_read(r["word"]) for r in rows]
    halves = {name: [(r, d) for r, d in zip(rows, reads) if r["split"] == name] for name in ("tune", "test")}
    tune_rows, tune_reads = zip(*halves["tune"])
    threshold, margin = choose(tune_rows, tune_reads)
    print(f"chosen on tune: threshold {threshold:.2f}, margin {margin:.2f} (a wrong mapping costs as much as a missed one)")
    for name, pairs in halves.items():
        part_rows, part_reads = zip(*pairs)
        wrong, missed, right = errors(part_rows, part_reads, threshold, margin)
        positive = sum(1 for r in part_rows if r["class"] is not None)
        kept = sum(1 for r, d in pairs if r["class"] is None and _mapped(d, threshold, margin) is None)
        print(f"{name} ({len(pairs)} words: {positive} of a class, {len(pairs) - positive} of none): mapped right "
              f"{right}/{positive}, missed {missed}, wrong {wrong} (of them words of no class mapped "
              f"{len(pairs) - positive - kept}/{len(pairs) - positive}); cost {wrong + missed}")
    if args.show:
        for row, read in zip(rows, reads):
            got = _mapped(read, threshold, margin)
            top = " ".join(f"{c}:{s:.2f}" for c, s in read[2][:2])
            flag = "ok " if got == row["class"] else "ERR"
            print(f"{flag} {row['split']:4} {row['word']:>14} -> {read[0]:>14} {str(got):>14} "
                  f"(want {row['class']}) {top}")


if __name__ == "__main__":
    main()
