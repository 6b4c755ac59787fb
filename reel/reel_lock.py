"""One writer per reel: a run holds its reel's lock from request to manifest.

A second run of the same reel (same root and id) waits for the first, saying so, and then
finds its stages finished (cached). Without it both runs re-make the same artifacts at once
and the manifest can list digests of files the other run has since replaced.
The lock is a flock on a file per reel beside the gpu lock (REEL_GPU_LOCK's folder), so it
serialises the runs of one host; runs of one S3 reel on different machines are not serialised.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import time
from pathlib import Path
from typing import Iterator

from reel import progress
from reel.settings import get_settings
from reel.store import ArtifactStore


def lock_path(store: ArtifactStore) -> Path:
    key = hashlib.sha256(store.url("").encode()).hexdigest()[:16]
    return get_settings().gpu_lock.parent / "reels" / f"{store.reel_id}-{key}.lock"


@contextlib.contextmanager
def reel_lock(store: ArtifactStore, repeat_s: float = 30.0) -> Iterator[None]:
    """Hold this reel's writer lock; wait for another writer, saying who it is every 30 s."""
    path = lock_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        started = next_say = time.time()
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.time() >= next_say:  # at once, then every repeat_s
                    fh.seek(0)
                    holder = fh.read().strip() or "another run"
                    progress.say(f"reel {store.reel_id} is being written by {holder}; waiting for it to finish "
                                 f"({time.time() - started:.0f}s so far; stop that run to go ahead)")
                    next_say += repeat_s
                time.sleep(0.5)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)
