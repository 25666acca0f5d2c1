"""A SayCan run that prints every candidate step's scores (LLM likelihood x affordance) at each step.

    python examples/saycan_scores.py IMAGE QUESTION [--llm SPEC]
"""

import argparse

from loupe.agent.api import Agent

parser = argparse.ArgumentParser()
parser.add_argument("image")
parser.add_argument("question")
parser.add_argument("--llm", default="local")
parser.add_argument("--top", type=int, default=0, help="print only the best N candidates per step (0: all)")
args = parser.parse_args()

answer = Agent(llm=args.llm, mode="saycan", use_cache=False).ask(args.image, args.question)
for number, step in enumerate(answer.saycan.steps if answer.saycan else (), 1):
    print(f"step {number}: chose {step.chosen}")
    ranked = sorted(step.candidates, key=lambda c: -c.combined)
    for c in ranked[: args.top or None]:
        print(f"    llm={c.llm:.4f} affordance={c.affordance:.2f} combined={c.combined:.4f}  {c.text}")
print("answer:", answer.text or answer.status)
