"""The artifact store: one reel's files under `<root>/<reel_id>/`, on local disk or S3 (fsspec).

Every write is atomic (temp name, then rename; an S3 object appears only when its upload
completes), and every artifact record carries the sha256 of its bytes so a later run can tell
a finished artifact from a missing, partial or edited one.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import posixpath
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import fsspec
from pydantic import BaseModel

from reel.settings import get_settings


class Artifact(BaseModel):
    """A file in the store: its path relative to the reel root and the digest of its bytes."""

    path: str
    sha256: str
    size: int


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def s3_settings() -> dict[str, Any]:
    """The s3fs options that are not secret: what Prefect's result storage block may hold."""
    s = get_settings()
    return {
        "client_kwargs": {"endpoint_url": s.s3_endpoint_url} if s.s3_endpoint_url else {},
        # rclone's and other S3 servers reject the newer default checksums on range reads.
        "config_kwargs": {"request_checksum_calculation": "when_required",
                          "response_checksum_validation": "when_required"},
    }


def s3_credentials() -> dict[str, Any]:
    """The S3 key and secret of this process (REEL_S3_KEY, REEL_S3_SECRET; None: botocore's own
    chain, AWS_* variables, ~/.aws, an instance role). Read where they are used, never stored."""
    s = get_settings()
    return {"key": s.s3_key or None, "secret": s.s3_secret or None}


def s3_options() -> dict[str, Any]:
    """s3fs options for this process: the settings and this process's credentials."""
    return {**s3_settings(), **s3_credentials()}


def s3_root_problem(root: str) -> str | None:
    """None when an object can be written and removed under the s3:// root, else why not and the
    setting that fixes it: checked before a run starts, so it never fails inside its first stage."""
    s = get_settings()
    opts = s3_options()
    opts["config_kwargs"] = {**opts["config_kwargs"], "connect_timeout": 5, "retries": {"max_attempts": 2}}
    fs = fsspec.filesystem("s3", **opts, skip_instance_cache=True)
    probe = f"{root[len('s3://'):].rstrip('/')}/.reel-write-check"
    try:
        fs.pipe_file(probe, b"ok")
        fs.rm_file(probe)
        return None
    except Exception as exc:  # noqa: BLE001 - botocore's errors vary by cause; each gets its fix below
        kind = type(exc).__name__
        where = s.s3_endpoint_url or "AWS S3"
        if kind == "NoCredentialsError":
            fix = "no S3 credentials were found; set REEL_S3_KEY and REEL_S3_SECRET"
        elif isinstance(exc, PermissionError):
            fix = f"{where} refused the credentials ({exc}); check REEL_S3_KEY and REEL_S3_SECRET"
        elif kind in ("EndpointConnectionError", "ConnectTimeoutError") or isinstance(exc, (ConnectionError, TimeoutError)):
            fix = f"{where} cannot be reached ({kind}); set REEL_S3_ENDPOINT_URL to your S3 server's URL"
        elif isinstance(exc, FileNotFoundError):
            fix = f"its bucket does not exist on {where}; create it first"
        else:
            fix = f"{kind}: {exc}; check REEL_S3_ENDPOINT_URL, REEL_S3_KEY and REEL_S3_SECRET"
        return f"the output root {root} cannot be written: {fix}"


def disk_full(folder: str | Path, needed: int, what: str, at_least: bool = False) -> "DiskFull":
    """The one line for a write that found its device full: the folder, the space it needed
    and the space there is. (The run's own partial files are removed before this is raised.)"""
    from reel.errors import DiskFull

    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = 0
    mb = lambda n: f"{n / 1e6:.1f} MB"  # noqa: E731
    return DiskFull(f"no space left in {folder}: {what} needed {'at least ' if at_least else ''}{mb(needed)}, "
                    f"{mb(free)} is free there; free some "
                    "space (or choose another root with --out or REEL_ROOT), then run the same command again")


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC


def write_atomically(path: Path, write) -> None:
    """Write a file through a temporary name beside it (`write(tmp)`), then rename it into place; on
    any failure the temporary file is removed, and a full disk is one DiskFull line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        needed = tmp.stat().st_size if tmp.exists() else 0
        tmp.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise disk_full(path.parent, getattr(write, "size", needed), f"writing {path.name}") from None
        raise


def _filesystem(root: str) -> tuple[fsspec.AbstractFileSystem, str]:
    if root.startswith("s3://"):
        fs = fsspec.filesystem("s3", **s3_options(), skip_instance_cache=True)
        return fs, root[len("s3://"):].rstrip("/")
    return fsspec.filesystem("file"), str(Path(root).expanduser().resolve())


class ArtifactStore:
    def __init__(self, root: str, reel_id: str):
        from reel.ids import check_reel_id

        self.root = root
        self.reel_id = check_reel_id(reel_id)
        self.fs, base = _filesystem(root)
        self.base = f"{base}/{reel_id}"
        self.is_local = not root.startswith("s3://")
        self._cache_dir: Path | None = None

    # -- addressing -------------------------------------------------------------------------
    def url(self, rel: str) -> str:
        return f"s3://{self.base}/{rel}" if not self.is_local else f"{self.base}/{rel}"

    def _full(self, rel: str) -> str:
        """The artifact's full path or key, refused unless it stays inside this reel's folder."""
        norm = posixpath.normpath(rel) if rel else "."
        if "\\" in rel or rel.startswith("/") or norm == ".." or norm.startswith("../"):
            raise ValueError(f"artifact path {rel!r} leaves the reel folder {self.base}")
        full = f"{self.base}/{rel}"
        if self.is_local and rel:
            # A symlink inside the reel folder must not lead out of it either.
            if not Path(full).resolve().is_relative_to(Path(self.base).resolve()):
                raise ValueError(f"artifact path {rel!r} resolves outside the reel folder {self.base}")
        return full

    def exists(self, rel: str) -> bool:
        return self.fs.exists(self._full(rel))

    # -- writing ----------------------------------------------------------------------------
    def put_file(self, rel: str, local: str | Path) -> Artifact:
        """Copy a finished local file into the store atomically and return its record."""
        digest, size = sha256_file(local), os.path.getsize(local)
        full = self._full(rel)
        if self.is_local:
            copy = functools.partial(shutil.copyfile, local)
            copy.size = size  # what a full disk needed: the whole file
            write_atomically(Path(full), copy)
        else:
            self.fs.put_file(str(local), full)
        return Artifact(path=rel, sha256=digest, size=size)

    def write_bytes(self, rel: str, data: bytes) -> Artifact:
        f = tempfile.NamedTemporaryFile(delete=False, dir=self.scratch())
        try:
            with f:
                f.write(data)
            return self.put_file(rel, f.name)
        except OSError as exc:
            if is_disk_full(exc):
                raise disk_full(self.scratch(), len(data), f"writing {rel}") from None
            raise
        finally:
            os.unlink(f.name)

    def write_if_changed(self, rel: str, data: bytes) -> None:
        """Write unless the stored bytes are already these: a re-run that changes nothing touches nothing."""
        if not (self.exists(rel) and self.read_bytes(rel) == data):
            self.write_bytes(rel, data)

    def write_json(self, rel: str, obj: Any) -> Artifact:
        return self.write_bytes(rel, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode())

    def append_jsonl(self, rel: str, obj: Any) -> None:
        """Append one line (read-modify-write, atomic replace: logs here are small)."""
        old = self.read_bytes(rel) if self.exists(rel) else b""
        self.write_bytes(rel, old + (json.dumps(obj, ensure_ascii=False) + "\n").encode())

    # -- reading ----------------------------------------------------------------------------
    def read_bytes(self, rel: str) -> bytes:
        with self.fs.open(self._full(rel), "rb") as f:
            return f.read()

    def read_json(self, rel: str) -> Any:
        return json.loads(self.read_bytes(rel))

    def read_jsonl(self, rel: str) -> list[Any]:
        if not self.exists(rel):
            return []
        return [json.loads(line) for line in self.read_bytes(rel).decode().splitlines() if line.strip()]

    def local_path(self, artifact: Artifact | str) -> Path:
        """A local file with the artifact's bytes: the file itself on disk, a cached download on S3."""
        rel = artifact.path if isinstance(artifact, Artifact) else artifact
        if self.is_local:
            return Path(self._full(rel))
        local = self.scratch() / "cache" / rel
        digest = artifact.sha256 if isinstance(artifact, Artifact) else None
        if not (local.exists() and (digest is None or sha256_file(local) == digest)):
            download = lambda tmp: self.fs.get_file(self._full(rel), str(tmp))  # noqa: E731
            if isinstance(artifact, Artifact):
                download.size = artifact.size
            write_atomically(local, download)
        return local

    def verify(self, artifact: Artifact) -> bool:
        """True when the artifact is present and its bytes still match its digest."""
        full = self._full(artifact.path)
        try:
            if self.fs.size(full) != artifact.size:
                return False
        except FileNotFoundError:
            return False
        if self.is_local:
            return sha256_file(full) == artifact.sha256
        h = hashlib.sha256()
        with self.fs.open(full, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest() == artifact.sha256

    # -- scratch space ------------------------------------------------------------------------
    def scratch(self) -> Path:
        """A local working folder for backends to write into before `put_file`."""
        if self._cache_dir is None:
            if self.is_local:
                d = Path(self.base) / ".work"
            else:
                d = Path(tempfile.gettempdir()) / "reel-scratch" / self.base.replace("/", "_")
            d.mkdir(parents=True, exist_ok=True)
            self._cache_dir = d
        return self._cache_dir

    def sweep(self, keep: str = "") -> None:
        """Remove what an interrupted or failed run left in this reel's local folder: partial
        `*.tmp-*` files, empty (cut-off) result records and the scratch folder `.work` (but its
        files matching `keep`). Called under the reel's writer lock: no other run writes here.
        (An S3 reel's store has no partial objects; its scratch is outside the output root.)"""
        base = Path(self.base)
        if not self.is_local or not base.is_dir():
            return
        for tmp in base.rglob("*.tmp-*"):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)
        results = base / ".results"
        for rec in results.iterdir() if results.is_dir() else ():
            if rec.is_file() and rec.stat().st_size == 0:
                rec.unlink(missing_ok=True)
        work = base / ".work"
        kept = set(work.glob(keep)) if keep and work.is_dir() else set()
        for p in work.iterdir() if work.is_dir() else ():
            if p in kept:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        if work.is_dir() and not kept:
            work.rmdir()
        self._cache_dir = None

    def results_url(self) -> str:
        """Where Prefect persists this reel's task results (cache records)."""
        return self.url(".results")
