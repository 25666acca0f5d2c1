"""Planner cost per query with the embedded local LLM: LLM calls, prompt tokens and latency.

    python3 bench/bench_planner.py [--questions ../shared/bench/questions.jsonl] [--limit 20] [--mode program]

Program mode, --planner generate: one planner call per query (plus a repair call when the first program
does not check); --planner rank (default): at most one batched scoring call per query.
The model is loaded and warmed on one query first; latency is the planner's wall time (prompt + decoding),
without running the program.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from loupe.tools.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", default=str(Path(__file__).resolve().parents[2] / "shared/bench/questions.jsonl"))
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--mode", default="program", choices=["program", "tasks"])
    parser.add_argument("--examples", type=int, default=6, help="retrieved examples in the prompt")
    parser.add_argument("--planner", default="rank", choices=["rank", "generate"],
                        help="program mode: rank typed candidates (the embedded default) or generate")
    args = parser.parse_args()

    from loupe.agent.llm import make_llm
    from loupe.agent.planning.planner import ProgramPlanner, TaskPlanner
    from loupe.agent.planning.retrieval import ExampleRetriever
    from loupe.programs.examples_library import load_library
    from loupe.tools.registry import default_registry

    registry, llm, library = default_registry(Settings.from_env(), plugins=False), make_llm("local", settings=Settings.from_env()), load_library()
    if args.mode == "program" and args.planner == "rank":
        from loupe.agent.planning.rank_planner import RankPlanner

        planner = RankPlanner(llm, registry, ExampleRetriever(library), examples_k=args.examples)
    elif args.mode == "program":
        planner = ProgramPlanner(llm, registry, ExampleRetriever(library), examples_k=args.examples)
    else:
        planner = TaskPlanner(llm, registry, ExampleRetriever([e for e in library if e.tasks]), examples_k=4)
    items = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    items = [i for i in items if "images" not in i][: args.limit]
    planner.plan(items[0]["query"])  # load + warm the model and the prompt's shared prefix
    rows = []
    for item in items:
        start = time.perf_counter()
        plan = planner.plan(item["query"])
        rows.append((time.perf_counter() - start, plan.llm_calls, plan.prompt_tokens, plan.ok))
    times = [r[0] for r in rows]
    first_call_tokens = [r[2] / r[1] for r in rows if r[1]] or [0]
    print(f"planner: {args.planner if args.mode == 'program' else 'tasks'}")
    print(f"| mode | queries | valid programs | LLM calls / query | prompt tokens / call | p50 s | p90 s |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.mode} | {len(rows)} | {sum(r[3] for r in rows)}/{len(rows)} | "
          f"{statistics.mean(r[1] for r in rows):.2f} | {statistics.median(first_call_tokens):.0f} | "
          f"{statistics.median(times):.2f} | {statistics.quantiles(times, n=10)[8]:.2f} |")


if __name__ == "__main__":
    main()
