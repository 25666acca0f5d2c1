"""Where a backend's weights are, without network: the Hugging Face cache or a local path, and what to do
when they are absent.

:func:`weights_present` asks the HF cache (never the network); :func:`missing_weights` is the message
that says how to fetch them; :func:`load_pretrained` loads, turning a missing download into a
:class:`loupe.tools.backends.WeightsMissing` that says the same.
"""

from __future__ import annotations

from pathlib import Path

from loupe.tools.backends import WeightsMissing
from loupe.tools.settings import env_name


def weights_present(model_id: str, filename: str = "config.json") -> bool:
    """True when ``model_id`` is a local folder/file, or ``filename`` of that hub repo is in the HF cache.

    Never touches the network.
    """
    if not model_id:
        return False
    if Path(model_id).expanduser().exists():
        return True
    if model_id.startswith((".", "/", "~")) or model_id.count("/") > 1:
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        found = try_to_load_from_cache(model_id, filename)
    except Exception:  # a malformed id is simply "not present"
        return False
    return isinstance(found, str)


def offline(settings) -> bool:
    """Whether the hub is off limits (``settings.hf_hub_offline``, or set when huggingface_hub was imported)."""
    if settings.hf_hub_offline:
        return True
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    return bool(getattr(constants, "HF_HUB_OFFLINE", False))


def missing_weights(settings, model_id: str, option_name: str) -> str:
    """What to do when the weights of ``model_id`` are not here (names the download and the setting)."""
    where = " (HF_HUB_OFFLINE=1 is set, so nothing is downloaded)" if offline(settings) else ""
    return (f"the weights of {model_id!r} are not on this machine{where}; fetch them on a machine with "
            f"network with `hf download {model_id}` (older hubs: `huggingface-cli download {model_id}`) and "
            f"copy the HF cache here, or point {env_name(option_name)} at a local folder")


def load_pretrained(settings, loader, model_id: str, option_name: str, **kwargs):
    """``loader.from_pretrained(model_id, **kwargs)``; a missing download becomes a WeightsMissing (a
    ToolUnavailable) that says how to fetch the weights (the hub's own error is chained). ``settings``:
    :class:`loupe.tools.settings.Settings` (``hf_hub_offline``)."""
    if offline(settings):
        if not (weights_present(model_id) or weights_present(model_id, "model_index.json")):
            raise WeightsMissing(missing_weights(settings, model_id, option_name))
        kwargs.setdefault("local_files_only", True)
    try:
        return loader.from_pretrained(model_id, **kwargs)
    except (OSError, ValueError) as error:
        if weights_present(model_id) or "does not appear to have" in str(error):
            raise
        raise WeightsMissing(missing_weights(settings, model_id, option_name)) from error
