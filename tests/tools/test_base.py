import re
import pytest

from loupe.programs.errors import ToolUnavailable
from loupe.programs.values import ValueType
from loupe.tools.backends import BackendSpec
from loupe.tools.base import Param, Tool
from loupe.tools.context import ToolContext
from loupe.tools.count import Count
from loupe.tools.loc import Loc
from loupe.tools.registry import ToolRegistry
from loupe.tools.settings import Settings


def declare(**attributes):
    namespace = {"name": "GOOD", "description": "A tool that does a good thing.",
                 "inputs": {"x": Param(ValueType.NUMBER)}, "output": ValueType.NUMBER,
                 "execute": lambda self, x: x}
    namespace.update(attributes)
    return type("Declared", (Tool,), namespace)


def test_a_well_declared_tool_is_accepted():
    assert declare().name == "GOOD"


@pytest.mark.parametrize("attributes, message", [
    ({"name": "lower"}, "name must be UPPER_CASE"),
    ({"name": ""}, "name must be UPPER_CASE"),
    ({"description": "short"}, "description must be a sentence"),
    ({"output": "Number"}, "output must be a ValueType"),
    ({"inputs": {"x": ValueType.NUMBER}}, "input 'x' must be a Param"),
    ({"execute": lambda self, y: y}, "execute() takes ['y'] but the declared inputs are ['x']"),
    ({"execute": lambda self: 1}, "execute() takes [] but the declared inputs are ['x']"),
])
def test_a_badly_declared_tool_fails_when_its_class_is_created(attributes, message):
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        declare(**attributes)


def test_tool_card_is_rendered_from_the_declaration():
    assert Count.card() == ("COUNT(box: Objects) -> Number  # Counts the objects in a set of objects, "
                            "e.g. those LOC found.\n    e.g. ANSWER0=COUNT(box=BOX0)")
    assert Loc.signature() == "LOC(image: Image, object: Text) -> Objects"


def test_registering_is_one_line_and_works_as_a_decorator():
    registry = ToolRegistry()

    @registry.register
    class Double(Tool):
        name = "DOUBLE"
        description = "Doubles a number, for this test."
        inputs = {"x": Param(ValueType.NUMBER)}
        output = ValueType.NUMBER

        def execute(self, x):
            return 2 * x

    assert "DOUBLE" in registry and registry.tool("DOUBLE").execute(x=4) == 8
    assert registry.tool("DOUBLE") is registry.tool("DOUBLE")


def test_unknown_tool_suggests_the_nearest():
    registry = ToolRegistry()
    registry.register(Loc)
    with pytest.raises(Exception, match="unknown module LOCATE.*did you mean LOC"):
        registry.tool("LOCATE")


class EchoBackend:
    def __init__(self, context):
        self.context = context

    def run(self, image, object):
        return f"{object} via echo"


def missing_weights(settings, spec):
    raise ToolUnavailable(f"weights are missing: run loupe models pull (for {spec.tool}, on {settings.device})")


def no_glasses(args):
    return 0.0 if args.get("object") == "glasses" else 1.0


def spec(name, **kwargs):
    return BackendSpec("LOC", name, f"{__name__}:EchoBackend", **kwargs)


def test_a_model_tool_without_backend_fails_at_run_time_naming_what_to_install():
    registry = ToolRegistry()
    registry.register(Loc)
    with pytest.raises(ToolUnavailable, match="LOC has no model backend installed.*loupe models pull"):
        registry.tool("LOC").execute(image=None, object="dog")
    assert registry.tool("LOC").affordance({"object": "dog"}) == 0.0
    assert registry.tool("LOC").backend_name() == "missing"


def test_backend_is_chosen_by_priority_availability_and_configuration():
    context = ToolContext()
    context.add_backend(spec("needs-gpu", requires=("no_such_module_xyz",), install_hint="python3 -m pip install loupe-vision[gpu]",
                             priority=10))
    context.add_backend(spec("echo", affordance=f"{__name__}:no_glasses"))
    registry = ToolRegistry(context)
    registry.register(Loc)
    loc = registry.tool("LOC")
    assert loc.backend_name() == "echo"
    assert loc.execute(image=None, object="dog") == "dog via echo"
    assert loc.affordance({"object": "glasses"}) == 0.0 and loc.affordance({"object": "dog"}) == 1.0

    forced = ToolContext(Settings(backends={"LOC": "needs-gpu"}))
    for s in context.backend_specs("LOC"):
        forced.add_backend(s)
    with pytest.raises(ToolUnavailable, match="needs-gpu: needs the Python package\\(s\\) no_such_module_xyz; "
                                              + re.escape("python3 -m pip install loupe-vision[gpu]")):
        forced.backend("LOC")


def test_backend_not_ready_says_why():
    context = ToolContext()
    context.add_backend(spec("lite", ready=f"{__name__}:missing_weights"))
    with pytest.raises(ToolUnavailable, match="lite: weights are missing: run loupe models pull"):
        context.backend("LOC")


def test_settings_from_environment():
    settings = Settings.from_env({"LOUPE_BACKEND_loc": "owlv2", "LOUPE_DEVICE": "cuda", "OTHER": "x"})
    assert settings.backends == {"LOC": "owlv2"} and settings.device == "cuda"


def test_one_backend_instance_is_shared():
    context = ToolContext()
    context.add_backend(spec("echo"))
    assert context.backend("LOC") is context.backend("LOC")
