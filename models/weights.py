"""Where a backend's weights come from: a hub id ("org/name") or a local folder. One rule, used by
the backends before they import anything heavy and by `reel doctor`."""

from __future__ import annotations

from pathlib import Path


def is_local(model: str) -> bool:
    """True when `model` names a folder rather than a hub id like "org/name"."""
    return model.startswith(("/", ".", "~")) or model.count("/") != 1 or Path(model).expanduser().exists()


def missing_folder(model: str) -> bool:
    """True for a model given as a local folder that is not there (a hub id is left to the loader)."""
    return is_local(model) and not Path(model).expanduser().is_dir()
