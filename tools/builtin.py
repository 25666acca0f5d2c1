"""The built-in tools and backends, registered through the same ``setup(registry)`` hook as a plugin."""

from __future__ import annotations

import importlib

BUILTIN_TOOLS = (
    "tools.loc:Loc", "tools.count:Count", "tools.facedet:FaceDet", "tools.seg:Seg",
    "tools.select:Select", "tools.classify:Classify", "tools.vqa:Vqa", "tools.caption:Caption",
    "tools.ocr:Ocr", "tools.pick_text:PickText", "tools.listing:ListTool", "tools.evaluate:Eval", "tools.result:Result",
    "tools.crop:Crop", "tools.crop:CropLeftOf", "tools.crop:CropRightOf", "tools.crop:CropAbove",
    "tools.crop:CropBelow", "tools.replace:Replace", "tools.colorpop:ColorPop", "tools.bgblur:BgBlur",
    "tools.blur:Blur", "tools.emoji:Emoji", "tools.tag:Tag",
)


def builtin_backends():
    """Backend specs of the built-in tiers (imported lazily; nothing heavy is loaded here)."""
    from tools.backends import BackendSpec

    specs = [BackendSpec("PICK_TEXT", "llm", "agent.text_backend:LlmTextPicker")]
    for module in ("tools.lite.specs", "tools.gpu.specs", "tools.vlm"):
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
