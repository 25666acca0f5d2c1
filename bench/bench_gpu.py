"""Benchmark of the GPU tier with random weights: per-backend p50 latency, batch throughput, and a
6-step program's wall time vs the sum of its model forwards.

    python bench/bench_gpu.py                     # full-size architectures, CUDA, the manager's dtype (bf16/fp16)
    python bench/bench_gpu.py --dtype fp16
    python bench/bench_gpu.py --tiny --device cpu # tiny configs on CPU: proves the script runs (no GPU needed)

Weights are random (built from configs, nothing downloaded), so the numbers are speed only, never accuracy.
Full-size models: OWLv2 base/16 (960 px), CLIP ViT-B/32, BLIP base (VQA and captioning), with small
offline tokenizers (token ids fit the full vocabularies; text lengths are realistic).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import statistics
import sys
import tempfile
import time

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "tools" / "gpu")]

import gpu_tiny  # noqa: E402  (offline tokenizers and tiny models)
from loupe.programs.values import Image, Obj, Objects  # noqa: E402
from loupe.tools.context import ToolContext  # noqa: E402
from loupe.tools.settings import Settings  # noqa: E402


def save_full(kind: str, folder: Path) -> Path:
    """Full-size architecture ``kind`` with random weights and an offline tokenizer, saved to ``folder``."""
    import transformers as t

    if kind == "owlv2":
        tok, _ = gpu_tiny.clip_tokenizer(folder)
        t.Owlv2ForObjectDetection(t.Owlv2Config()).save_pretrained(folder)
        t.Owlv2Processor(t.Owlv2ImageProcessor(), tok).save_pretrained(folder)
    elif kind == "clip":
        tok, _ = gpu_tiny.clip_tokenizer(folder, max_length=77)
        t.CLIPModel(t.CLIPConfig()).save_pretrained(folder)
        t.CLIPProcessor(t.CLIPImageProcessor(), tok).save_pretrained(folder)
    else:
        tok = gpu_tiny.bert_tokenizer(folder)
        tok.add_special_tokens({"bos_token": "[DEC]"})
        text = dict(bos_token_id=tok.convert_tokens_to_ids("[DEC]"), sep_token_id=tok.sep_token_id,
                    pad_token_id=tok.pad_token_id, eos_token_id=tok.sep_token_id)
        model = t.BlipForQuestionAnswering if kind == "blip_vqa" else t.BlipForConditionalGeneration
        model(t.BlipConfig(text_config=text)).save_pretrained(folder)
        t.BlipProcessor(t.BlipImageProcessor(), tok).save_pretrained(folder)
    return folder


def build(kind: str, folder: Path, tiny: bool) -> Path:
    if not tiny:
        return save_full(kind, folder)
    saver = {"owlv2": gpu_tiny.save_owlv2, "clip": gpu_tiny.save_clip}.get(kind)
    return saver(folder) if saver else gpu_tiny.save_blip(folder, "vqa" if kind == "blip_vqa" else "caption")


class Timed:
    """Wraps a backend: records the seconds each run_batch takes (the model forwards of a step)."""

    def __init__(self, backend, log):
        self.backend, self.log = backend, log

    def run_batch(self, calls):
        start = time.perf_counter()
        out = self.backend.run_batch(calls)
        _sync()
        self.log.append(time.perf_counter() - start)
        return out

    def run(self, **kw):
        return self.run_batch([kw])[0]


def _sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def measure(fn, repeats: int) -> list[float]:
    fn()  # warm-up (loads the model, compiles kernels)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync()
        times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny configs (a smoke test of the script)")
    parser.add_argument("--device", default="cuda", help="cuda, mps or cpu")
    parser.add_argument("--dtype", default="auto", help="auto (bf16/fp16 on GPU), fp16, bf16, fp32")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from loupe.tools.gpu.blip import BlipCaptioner, BlipVqa
    from loupe.tools.gpu.clip import ClipClassifier, ClipSelector
    from loupe.tools.gpu.owlv2 import Owlv2Locator

    work = Path(tempfile.mkdtemp(prefix="loupe-bench-"))
    options = {"owlv2.threshold": 0.5}
    for kind, key in (("owlv2", "owlv2.model"), ("clip", "clip.model"), ("blip_vqa", "blip_vqa.model"),
                      ("blip_caption", "blip_caption.model")):
        (work / kind).mkdir()
        options[key] = str(build(kind, work / kind, args.tiny))
    context = ToolContext(Settings(device=args.device, dtype=args.dtype, options=options))
    rng = np.random.default_rng(0)
    image = Image(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
    objects = Objects(tuple(Obj((x, 50, x + 120, 300), f"o{x}") for x in (0, 150, 300, 450)), image.size)
    backends = {"LOC/owlv2": (Owlv2Locator(context), {"image": image, "object": "dog"}),
                "SELECT/clip": (ClipSelector(context), {"image": image, "object": objects, "query": "dog",
                                                        "category": None}),
                "CLASSIFY/clip": (ClipClassifier(context), {"image": image, "object": objects,
                                                            "categories": ["cat", "dog"]}),
                "VQA/blip": (BlipVqa(context), {"image": image, "question": "what color is the dog?"}),
                "CAPTION/blip": (BlipCaptioner(context), {"image": image})}
    report = {"device": args.device, "tiny": args.tiny, "batch": args.batch, "backends": {}}
    for name, (backend, call) in backends.items():
        single = measure(lambda: backend.run_batch([call]), args.repeats)
        batch = measure(lambda: backend.run_batch([call] * args.batch), max(2, args.repeats // 3))
        report["backends"][name] = {"p50_ms": 1000 * statistics.median(single),
                                    "batch_calls_per_s": args.batch / statistics.median(batch)}
    report["dtype"] = str(backends["LOC/owlv2"][0].manager.dtype)
    report["program"] = program(backends, image)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"device={report['device']} dtype={report['dtype']} tiny={args.tiny} batch={args.batch}")
        for name, row in report["backends"].items():
            print(f"  {name:<15} p50 {row['p50_ms']:8.1f} ms   batch {row['batch_calls_per_s']:8.1f} calls/s")
        p = report["program"]
        print(f"  6-step program: wall {p['wall_ms']:.1f} ms, model forwards {p['forwards_ms']:.1f} ms "
              f"(overhead {p['wall_ms'] - p['forwards_ms']:.1f} ms)")
    return report


def program(backends, image) -> dict:
    """LOC -> SELECT -> CLASSIFY -> VQA(crop) -> CAPTION -> RESULT, each step through a timed backend."""
    log: list[float] = []
    loc, select, classify, vqa, caption = (Timed(backends[k][0], log) for k in
                                           ("LOC/owlv2", "SELECT/clip", "CLASSIFY/clip", "VQA/blip", "CAPTION/blip"))
    start = time.perf_counter()
    found = loc.run(image=image, object="dog")
    if len(found) == 0:
        found = Objects((Obj((0, 0, image.width / 2, image.height), "dog"),), image.size)
    chosen = select.run(image=image, object=found, query="dog", category=None)
    labelled = classify.run(image=image, object=chosen, categories=["cat", "dog"])
    answer = vqa.run(image=image.crop(labelled[0].box), question="what color is the dog?")
    text = caption.run(image=image)
    result = {"answer": answer, "caption": text}  # the RESULT step
    wall = time.perf_counter() - start
    return {"wall_ms": 1000 * wall, "forwards_ms": 1000 * sum(log), "steps": 6, "result": result}


if __name__ == "__main__":
    main()
