"""One task over a folder of images (resumable; run it twice and the second run skips everything).

    python examples/batch_folder.py TASK IMAGES_DIR OUT_DIR [--llm SPEC]

TASK is an instruction ("count the people", planned once) or a program file.
"""

import argparse

from loupe.agent.batch import run_batch
from loupe.tools.settings import Settings

parser = argparse.ArgumentParser()
parser.add_argument("task")
parser.add_argument("images")
parser.add_argument("out")
parser.add_argument("--llm", default="local")
args = parser.parse_args()

summary = run_batch(args.task, args.images, args.out, llm=args.llm, progress=False,
                    settings=Settings.from_env())  # this script is an entry point: it reads the settings
print(f"{summary['ran']} run, {summary['skipped']} skipped, {summary['ok']} ok")
print(open(f"{args.out}/results.csv", encoding="utf-8").read(), end="")
