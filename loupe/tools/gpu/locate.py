"""What the GPU LOC backends share: name checks of closed vocabularies and batching in chunks.

The LOC tool (``loupe.tools.loc``) checks that a name is given and answers region words itself; a subclass
implements ``_detect(calls) -> list[Objects]`` (one forward for the chunk; each call has a stripped
``object`` name) and may override ``knows(name)`` (closed-vocabulary detectors).
"""

from __future__ import annotations

from loupe.programs.errors import ToolError
from loupe.tools.gpu.base import GpuBackend, chunks, guarded


class Locator(GpuBackend):
    batch_option = ""  # e.g. "owlv2.batch": images per forward (default 8)

    def knows(self, name: str) -> bool:
        return True

    def unknown(self, name: str) -> ToolError:
        return ToolError(f"{name!r} is not a class of this detector")

    def run_batch(self, calls):
        """One result per call: ``Objects`` of the call's image, or the exception of that call."""
        results: dict[int, object] = {}
        search = []
        for i, call in enumerate(calls):
            name = str(call["object"]).strip()
            if self.knows(name):
                search.append(i)
            else:
                results[i] = self.unknown(name)
        size = int(self.option(self.batch_option, 8)) if self.batch_option else 8
        for part in chunks(search, size):
            batch = [dict(calls[i], object=calls[i]["object"].strip()) for i in part]
            results.update(zip(part, guarded(batch, self._detect)))
        return [results[i] for i in range(len(calls))]

    def _detect(self, calls) -> list:
        raise NotImplementedError
