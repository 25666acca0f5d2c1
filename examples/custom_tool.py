"""A custom tool in one file, used from a program.

    python examples/custom_tool.py IMAGE

Register it in code (below), or as a plugin without touching code:
LOUPE_PLUGINS=custom_tool:setup loupe run program.txt --image IMAGE  (with examples/ on PYTHONPATH).
"""

import sys

import numpy as np

from loupe.programs.values import ValueType
from loupe.tools.base import Param, Tool


class Brightness(Tool):
    name = "BRIGHTNESS"
    description = "The mean brightness of an image, 0 (black) to 255 (white)."
    inputs = {"image": Param(ValueType.IMAGE, "the image to measure")}
    output = ValueType.NUMBER
    examples = ("ANSWER0=BRIGHTNESS(image=IMAGE)",)

    def execute(self, image):
        return round(float(np.asarray(image.pixels).mean()), 1)


def setup(registry):
    registry.register(Brightness)


PROGRAM = """ANSWER0=BRIGHTNESS(image=IMAGE)
ANSWER1=EVAL(expr="'bright' if {ANSWER0} > 100 else 'dark'")
FINAL_RESULT=RESULT(var=ANSWER1)"""

if __name__ == "__main__":
    from loupe.programs.images import load_image
    from loupe.programs.interpreter import Interpreter
    from loupe.tools.registry import default_registry
    from loupe.tools.settings import Settings

    registry = default_registry(Settings.from_env())  # this script is an entry point: it reads the settings
    setup(registry)
    execution = Interpreter(registry).run(PROGRAM, {"IMAGE": load_image(sys.argv[1])})
    print(f"brightness {execution.record('ANSWER0').value}: {execution.answer}")
