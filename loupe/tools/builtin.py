"""The built-in tools and backends, registered through the same ``setup(registry)`` hook as a plugin."""

from __future__ import annotations

import importlib

BUILTIN_TOOLS = (
    "loupe.tools.loc:Loc", "loupe.tools.count:Count", "loupe.tools.facedet:FaceDet", "loupe.tools.seg:Seg",
    "loupe.tools.select:Select", "loupe.tools.classify:Classify", "loupe.tools.vqa:Vqa", "loupe.tools.caption:Caption",
    "loupe.tools.ocr:Ocr", "loupe.tools.pick_text:PickText", "loupe.tools.listing:ListTool", "loupe.tools.evaluate:Eval", "loupe.tools.result:Result",
    "loupe.tools.crop:Crop", "loupe.tools.crop:CropLeftOf", "loupe.tools.crop:CropRightOf", "loupe.tools.crop:CropAbove",
    "loupe.tools.crop:CropBelow", "loupe.tools.replace:Replace", "loupe.tools.colorpop:ColorPop", "loupe.tools.bgblur:BgBlur",
    "loupe.tools.blur:Blur", "loupe.tools.emoji:Emoji", "loupe.tools.tag:Tag", "loupe.tools.where:Where",
)


def builtin_backends():
    """Backend specs of the built-in tiers (imported lazily; nothing heavy is loaded here)."""
    from loupe.tools.backends import BackendSpec

    specs = [BackendSpec("PICK_TEXT", "llm", "loupe.agent.text_backend:LlmTextPicker")]
    for module in ("loupe.tools.lite.specs", "loupe.tools.gpu.specs", "loupe.tools.vlm"):
        try:
            specs += importlib.import_module(module).SPECS
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
    return specs


def setup(registry) -> None:
    for path in BUILTIN_TOOLS:
        module, _, name = path.partition(":")
        registry.register(getattr(importlib.import_module(module), name))
    for spec in builtin_backends():
        registry.register_backend(spec)
