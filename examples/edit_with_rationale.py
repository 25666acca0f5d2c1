"""An edit with its visual rationale (an HTML page: every step, its inputs, output and time).

    python examples/edit_with_rationale.py PROGRAM_FILE IMAGE --out edited.png --html rationale.html
"""

import argparse

from loupe.programs import load_program
from loupe.programs.images import load_image
from loupe.programs.interpreter import Interpreter
from loupe.agent.rationale import write_html
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings

parser = argparse.ArgumentParser()
parser.add_argument("program")
parser.add_argument("image")
parser.add_argument("--out", default="edited.png")
parser.add_argument("--html", default="rationale.html")
args = parser.parse_args()

registry = default_registry(Settings.from_env())  # an entry point: the settings are read once, here
program = load_program(open(args.program, encoding="utf-8").read(), registry.names())
execution = Interpreter(registry).run(program, {"IMAGE": load_image(args.image)})
if not execution.ok:
    raise SystemExit("\n".join(execution.errors))
execution.result.to_pil().save(args.out)
write_html(execution, args.html)
print(f"wrote {args.out} and {args.html}")
