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


def _inside(root: str, allowed: str) -> bool:
    if root.startswith("s3://") or allowed.startswith("s3://"):
        return root.rstrip("/") == allowed.rstrip("/") or root.startswith(allowed.rstrip("/") + "/")
    return Path(root).expanduser().resolve().is_relative_to(Path(allowed).expanduser().resolve())


def deployment_root(root: str | None) -> str:
    """The root a run writes to (empty: this worker's REEL_ROOT). A run of a deployment, whose
    parameters any API caller sets, may only write inside the roots this worker allows
    (REEL_ALLOWED_ROOTS, default its REEL_ROOT); `reel make --out` is the local user's own choice."""
    from prefect.runtime import deployment

    from reel.settings import get_settings

    s = get_settings()
    chosen = root or s.root
    if deployment.id is None:
        return chosen
    allowed = [r.strip() for r in s.allowed_roots.split(",") if r.strip()] or [s.root]
    if not any(_inside(chosen, a) for a in allowed):
        raise UserError(f"root {chosen!r} is not a root this worker writes to ({', '.join(allowed)}); leave root "
                        "empty for the worker's own, or add it to the worker's REEL_ALLOWED_ROOTS (comma-separated)")
    return chosen
