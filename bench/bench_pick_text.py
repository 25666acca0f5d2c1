"""PICK_TEXT's choice among OCR's lines, per scoring method, on OCR questions with correct programs.

Runs each item's correct program (``--programs``, rows ``{"id", "program"}`` with ``'{QUESTION}'``) once
to get the text OCR hands to PICK_TEXT (saved in ``--cache``, so later runs skip the vision models),
then picks the answer with each of ``loupe.agent.text_backend.SCORINGS`` ("prior": no model; "likelihood"
and "pmi": the embedded SmolLM2) and prints per-item picks and accuracy per method. Accuracy only:
no latency is taken here.

    python3 bench/bench_pick_text.py --questions ../shared/bench/questions.jsonl --needs ocr \\
        --images ../shared/data/images --programs bench/oracle/visible.jsonl --cache /tmp/visible-ocr.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from loupe.agent.evaluation.matching import answer_matches
from loupe.agent.text_backend import SCORINGS, pick
from loupe.programs.values import Obj, Objects
from loupe.tools.settings import Settings


def ocr_texts(items, programs: dict, images: Path) -> dict:
    """Item id -> the last OCR step's lines ``{"size": [w, h], "lines": [[x1, y1, x2, y2, score, text]]}``."""
    from PIL import Image as PILImage

    from loupe.programs.interpreter import Interpreter
    from loupe.programs.values import Image
    from loupe.tools.registry import default_registry

    interpreter = Interpreter(default_registry(Settings.from_env(), plugins=False))
    found = {}
    for item in items:
        question = item["query"].replace("\\", "\\\\").replace("'", "\\'")
        program = programs[item["id"]].replace("{QUESTION}", question)
        image = Image.from_pil(PILImage.open(images / item["image"]), item["image"])
        records = interpreter.run(program, {"IMAGE": image}).records
        text = next((r.value for r in reversed(records) if r.module == "OCR" and r.ok), None)
        lines = [[*o.box, o.score, o.text] for o in text] if text is not None else []
        found[item["id"]] = {"size": list(text.image_size) if text is not None else [0, 0], "lines": lines}
    return found


def as_objects(entry: dict) -> Objects:
    return Objects(tuple(Obj(tuple(line[:4]), "text", line[4], text=line[5]) for line in entry["lines"]),
                   tuple(entry["size"]))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", required=True)
    parser.add_argument("--images", required=True)
    parser.add_argument("--programs", required=True)
    parser.add_argument("--needs", default="ocr", help="keep items whose needs include this")
    parser.add_argument("--cache", help="JSON file of OCR lines per item (read if present, else written)")
    parser.add_argument("--scorings", default=",".join(SCORINGS))
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    items = [r for r in rows if args.needs in r.get("needs", ())]
    programs = {r["id"]: r["program"] for r in map(json.loads, Path(args.programs).read_text().splitlines())}
    items = [i for i in items if i["id"] in programs]
    cache = Path(args.cache) if args.cache else None
    texts = json.loads(cache.read_text()) if cache and cache.exists() else {}
    missing = [i for i in items if i["id"] not in texts]
    if missing:
        texts.update(ocr_texts(missing, programs, Path(args.images)))
        if cache:
            cache.write_text(json.dumps(texts, indent=1))
    from loupe.agent.llm.local import LocalLM

    llm = LocalLM()
    scorings = args.scorings.split(",")
    right = dict.fromkeys(scorings, 0)
    for item in items:
        lines = as_objects(texts[item["id"]])
        read = " | ".join(o.text for o in lines)
        print(f"{item['id']} {item['query']!r} answers={item['answers']} read: {read}")
        for scoring in scorings:
            answer = pick(lines, item["query"], llm, scoring).text if len(lines) else ""
            ok = answer_matches(answer, item["answers"])
            right[scoring] += ok
            print(f"    {scoring:>10}: {'OK ' if ok else 'bad'} {answer!r}")
    for scoring in scorings:
        print(f"{scoring}: {right[scoring]}/{len(items)} = {100 * right[scoring] / max(1, len(items)):.1f}%")


if __name__ == "__main__":
    main()
