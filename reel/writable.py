"""Up-front checks that the folders a run writes to can be written, before Prefect starts:
the artifact root (a local folder, or an s3:// root probed with one small object), the gpu lock folder (REEL_GPU_LOCK) and Prefect's home (its database, the
concurrency leases). A run that would fail deep inside a stage fails here with the fix."""

from __future__ import annotations

import tempfile
from pathlib import Path

from reel.errors import UserError


def _can_write(folder: Path) -> str | None:
    """None when a file can be created in `folder` (made if missing), else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
        return None
    except OSError as exc:
        return exc.strerror or str(exc)


def folders(root: str | None) -> list[tuple[str, Path, str]]:
    """(what, folder, the setting that moves it) for every local folder a run writes."""
    from prefect.settings import PREFECT_HOME

    from reel.settings import get_settings

    s = get_settings()
    out = []
    root = root or s.root
    if not root.startswith("s3://"):
        out.append(("the output root", Path(root).expanduser(), "--out or REEL_ROOT"))
    out.append(("the gpu lock folder", s.gpu_lock.expanduser().parent, "REEL_GPU_LOCK (a file path)"))
    out.append(("Prefect's home", Path(PREFECT_HOME.value()).expanduser(), "PREFECT_HOME"))
    return out


def problems(root: str | None) -> list[str]:
    from reel.settings import get_settings
    from reel.store import s3_root_problem

    found = []
    root = root or get_settings().root
    if root.startswith("s3://"):
        found += filter(None, [s3_root_problem(root)])
    for what, folder, setting in folders(root):
        why = _can_write(folder)
        if why:
            found.append(f"{what} {folder} is not writable ({why}); choose another folder with {setting}")
    return found


def require_writable(root: str | None) -> None:
    found = problems(root)
    if found:
        raise UserError("; ".join(found))
