"""What the GPU LOC backends share: name checks, VisProg's region words, and batching in chunks.

A subclass implements ``_detect(calls) -> list[Objects]`` (one forward for the chunk; each call has a
checked, stripped ``object`` name) and may override ``knows(name)`` (closed-vocabulary detectors).
"""

from __future__ import annotations

from programs.errors import ToolError
from tools.gpu.base import GpuBackend, chunks, each, guarded, unwrap
from tools.lite.backends.loc import region
from tools.lite.vocabulary import is_region


class Locator(GpuBackend):
    batch_option = ""  # e.g. "owlv2.batch": images per forward (default 8)

    def knows(self, name: str) -> bool:
        return True

    def unknown(self, name: str) -> ToolError:
        return ToolError(f"{name!r} is not a class of this detector")

    def run_batch(self, calls):
        results: dict[int, object] = {}
        search = []
        for i, call in enumerate(calls):
            name = call.get("object")
            if not isinstance(name, str) or not name.strip():
                results[i] = ToolError(f"LOC needs a non-empty object name, e.g. object='dog'; got {name!r}")
            elif is_region(name):
                results[i] = None
            elif not self.knows(name.strip()):
                results[i] = self.unknown(name.strip())
            else:
                search.append(i)
        size = int(self.option(self.batch_option, 8)) if self.batch_option else 8
        for part in chunks(search, size):
            batch = [dict(calls[i], object=calls[i]["object"].strip()) for i in part]
            results.update(zip(part, guarded(batch, self._detect)))
        return each(range(len(calls)), lambda i: unwrap(results[i]) if results[i] is not None
                    else region(calls[i]["image"], calls[i]["object"]))

    def _detect(self, calls) -> list:
        raise NotImplementedError
