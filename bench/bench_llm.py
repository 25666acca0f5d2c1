"""Local LLM timings: conversion, cached load, scoring, generation (with and without prefix_ok).

    python bench/bench_llm.py [--runs 5] [--fresh-cache]

``--fresh-cache`` converts into a temporary cache folder to time the first load. The prompt is ~1,000
tokens of planner-like text; the planner case sends it with a different question each run (the shared
prefix is reused from the KV cache, as in the agent) and a cold case clears the cache first.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from loupe.tools.settings import Settings

EXAMPLE = ("Question: Is the {o} left of the cup?\nProgram:\nBOX0=LOC(image=IMAGE,object='{o}')\n"
           "BOX1=LOC(image=IMAGE,object='cup')\nANSWER0=EVAL(expr=\"'yes' if {{BOX0}} < {{BOX1}} else 'no'\")\n"
           "FINAL_RESULT=RESULT(var=ANSWER0)\n\n")
OBJECTS = ["tie", "dog", "car", "cat", "lamp", "chair", "tree", "book", "phone", "shoe", "bag", "plate", "bird", "vase"]
PROGRAM = "BOX0=LOC(image=IMAGE,object='{o}')\nIMAGE0=CROP(image=IMAGE,box=BOX0)\nANSWER0=VQA(image=IMAGE0,question='What color is the {o}?')\nFINAL_RESULT=RESULT(var=ANSWER0)"


def planner_prompt(llm, question: str, target: int = 1000) -> str:
    text, i = "Write a program for the question, like the examples.\n\n", 0
    while len(llm._tokenizer.encode(text)) < target - 20:
        text += EXAMPLE.format(o=OBJECTS[i % len(OBJECTS)])
        i += 1
    return text + f"Question: {question}\nProgram:\n"


def timed(fn, runs: int):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh-cache", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.fresh_cache:
        os.environ["LOUPE_CACHE_DIR"] = tempfile.mkdtemp(prefix="loupe-bench-")
    from loupe.agent.llm import make_llm

    llm = make_llm("local", settings=Settings.from_env(), threads=args.threads).load()
    print(f"torch threads during calls: {args.threads}")
    print(f"load ({llm.loaded_from}): {llm.load_seconds:.2f} s")
    again = make_llm("local", settings=Settings.from_env()).load()
    print(f"load ({again.loaded_from}): {again.load_seconds:.2f} s")
    del again

    prompt = planner_prompt(llm, "What color is the tie?")
    n_prompt = len(llm._tokenizer.encode(prompt))
    cands = [f"BOX0=LOC(image=IMAGE,object='{o}')\n" for o in OBJECTS[:10]]
    llm._ids, llm._kv = [], []
    start = time.perf_counter()
    llm.score(prompt, cands)
    print(f"score 10 candidates after a {n_prompt}-token prompt, cold: {time.perf_counter() - start:.3f} s")
    warm, _ = timed(lambda: llm.score(prompt, cands), args.runs)
    print(f"score 10 candidates, prompt KV-cached: p50 {warm:.3f} s")

    line = re.compile(r"[A-Z_]*[0-9]*(=([A-Z_]*(\((\w+=[^,)]*,?)*\)?)?)?)?")

    def allow(text: str) -> bool:  # every line a prefix of NAME=TOOL(arg=value,...)
        return all(line.fullmatch(part) for part in text.split("\n"))
    for label, prefix_ok in (("free", None), ("prefix_ok", allow)):
        for cold in (True, False):
            counter = iter(range(10**6))

            def run(cold=cold, prefix_ok=prefix_ok, counter=counter):
                if cold:
                    llm._ids, llm._kv = [], []
                question = f"What color is the {OBJECTS[next(counter) % len(OBJECTS)]}?"
                p = planner_prompt(llm, question)
                return llm.complete(p, max_tokens=100, prefix_ok=prefix_ok, temperature=0.0, stop=["\n\n"])
            run()  # warm-up
            p50, c = timed(run, args.runs)
            print(f"complete {label:9s} {'cold' if cold else 'warm'} prefix: p50 {p50:.2f} s for {c.completion_tokens} "
                  f"tokens ({c.completion_tokens / p50:.0f} tok/s incl. prompt), finish={c.finish_reason}")
    llm.options = llm.options.model_copy(update={"draft_tokens": 0})
    p = planner_prompt(llm, "What color is the tie?")
    llm.complete(p, max_tokens=4)
    p50, c = timed(lambda: llm.complete(p, max_tokens=100, stop=["\n\n"]), args.runs)
    print(f"complete free warm prefix, no drafting: p50 {p50:.2f} s for {c.completion_tokens} tokens "
          f"({c.completion_tokens / p50:.0f} tok/s)")
    p50, c = timed(lambda: llm.complete("Write a long story about a cat.", max_tokens=100), args.runs)
    print(f"complete free, short prompt, no drafting, 100 tokens: p50 {p50:.2f} s "
          f"({c.completion_tokens / p50:.0f} tok/s)")


if __name__ == "__main__":
    main()
