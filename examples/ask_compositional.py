"""A compositional question through the Python API.

    python examples/ask_compositional.py [IMAGE] [QUESTION] [--llm SPEC]

SPEC: local (default), openai:MODEL, a server URL, or oracle:PROGRAMS.jsonl (canned programs).
"""

import argparse
from pathlib import Path

from loupe.agent.api import Agent

HERE = Path(__file__).parent

parser = argparse.ArgumentParser()
parser.add_argument("image", nargs="?", default=str(HERE / "images" / "dog.jpg"))
parser.add_argument("question", nargs="?", default="Is there a dog and a bicycle in the photo?")
parser.add_argument("--llm", default="local")
args = parser.parse_args()

agent = Agent(llm=args.llm, use_cache=False)  # reads the environment's settings once
answer = agent.ask(args.image, args.question)
print("program:\n" + answer.program)
for record in answer.execution.records if answer.execution else ():
    print(f"  {record.output}={record.module}: {record.status} in {record.wall_s * 1000:.1f} ms")
print("answer:", answer.text or answer.status)
