"""Shared by the service tests: the scripted planner's programs, the test photos, a config maker."""

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
PHOTOS = TESTS / "data" / "photos"
ORACLE = f"oracle:{TESTS / 'agent' / 'service' / 'programs.jsonl'}"


def make_config(tmp_path, **options):
    from agent.service.config import ServiceConfig

    options.setdefault("llms", (ORACLE,))
    options.setdefault("use_cache", False)
    return ServiceConfig(cache_path=tmp_path / "programs.sqlite", **options)


def photo(name: str):
    """A multipart file tuple of a test photo."""
    return (name, (PHOTOS / name).read_bytes(), "image/jpeg")
