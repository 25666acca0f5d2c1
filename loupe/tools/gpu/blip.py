"""VQA and CAPTION with BLIP (transformers). Batched: one padded ``generate`` per chunk of calls.

Options: ``blip_vqa.model`` (default ``Salesforce/blip-vqa-base``), ``blip_caption.model`` (default
``Salesforce/blip-image-captioning-base``), ``blip.batch`` (16), ``blip.max_new_tokens`` (20).
"""

from __future__ import annotations

from loupe.programs.errors import ToolError
from loupe.tools.gpu.base import GpuBackend, chunks, guarded, to_device


class _Blip(GpuBackend):
    processor_class = "BlipProcessor"
    kind = ""

    def check(self, call) -> None:
        """Raise ToolError when this call's arguments are wrong (so it fails alone, not its batch)."""

    def run_batch(self, calls):
        results: dict[int, object] = {}
        good = []
        for i, call in enumerate(calls):
            try:
                self.check(call)
                good.append(i)
            except Exception as error:
                results[i] = error
        for part in chunks(good, int(self.option("blip.batch", 16))):
            results.update(zip(part, guarded([calls[i] for i in part], self._answer)))
        return [results[i] for i in range(len(calls))]

    def _generate(self, images, texts):
        import torch

        with self.model(self.kind, self._build) as loaded:
            kwargs = {"text": texts, "padding": True} if texts is not None else {}
            inputs = loaded.processor(images=[i.to_pil() for i in images], return_tensors="pt", **kwargs)
            with torch.inference_mode():
                ids = loaded.model.generate(**to_device(inputs, loaded.device, loaded.dtype),
                                            max_new_tokens=int(self.option("blip.max_new_tokens", 20)))
            return [t.strip() for t in loaded.processor.batch_decode(ids, skip_special_tokens=True)]


class BlipVqa(_Blip):
    option_name = "blip_vqa.model"
    default_model = "Salesforce/blip-vqa-base"
    model_class = "BlipForQuestionAnswering"
    kind = "blip_vqa"

    def check(self, call):
        if not isinstance(call.get("question"), str) or not call["question"].strip():
            raise ToolError(f"VQA needs a question, e.g. question='What color is the bus?'; "
                            f"got {call.get('question')!r}")

    def _answer(self, calls):
        return self._generate([c["image"] for c in calls], [c["question"].strip() for c in calls])


class BlipCaptioner(_Blip):
    option_name = "blip_caption.model"
    default_model = "Salesforce/blip-image-captioning-base"
    model_class = "BlipForConditionalGeneration"
    kind = "blip_caption"

    def _answer(self, calls):
        return self._generate([c["image"] for c in calls], None)
