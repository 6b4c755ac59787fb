"""Who holds the `gpu` slot: one small record per lease, beside the host lock file.

Prefect's lease says that a slot is held, not by whom. Each holder on this host writes
`<gpu lock folder>/holders/<lease id>.json` (pid, reel, task, since) while it holds the slot,
so a waiter can say what it waits for and release the lease of a holder whose process is
gone (a killed CLI leaves its lease behind; the ephemeral API has no repossessor to expire it).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from uuid import UUID

from reel.settings import get_settings


def holders_dir() -> Path:
    return get_settings().gpu_lock.parent / "holders"


def record(lease_id: UUID, slot: str, what: str) -> Path:
    d = holders_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{lease_id}.json"
    path.write_text(json.dumps({"lease_id": str(lease_id), "slot": slot, "pid": os.getpid(),
                                "host": socket.gethostname(), "what": what, "since": time.time()}))
    return path


def read_all(slot: str) -> list[dict]:
    out = []
    for path in sorted(holders_dir().glob("*.json")) if holders_dir().is_dir() else []:
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if rec.get("slot") == slot:
            out.append(rec | {"path": str(path)})
    return out


def alive(rec: dict) -> bool:
    """A holder on another host is assumed alive (its lease expires on the server instead)."""
    if rec.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(rec["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release(rec: dict) -> None:
    """Give back a holder's lease on the Prefect API and forget its record."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        try:
            client.release_concurrency_slots_with_lease(lease_id=UUID(rec["lease_id"]))
        except Exception:  # noqa: BLE001 - a lease the server already expired is released
            pass
    Path(rec["path"]).unlink(missing_ok=True)


def reap_dead(slot: str) -> list[dict]:
    """Release the leases of local holders whose process has died; returns what was released."""
    dead = [rec for rec in read_all(slot) if not alive(rec)]
    for rec in dead:
        release(rec)
    return dead


def release_mine(slot: str) -> int:
    """On the way out of a stopped run: release every lease this process still holds."""
    mine = [rec for rec in read_all(slot) if rec.get("pid") == os.getpid() and rec.get("host") == socket.gethostname()]
    for rec in mine:
        release(rec)
    return len(mine)


def describe(slot: str, waited: float) -> str:
    """The line a waiter prints: what it waits for, who holds it, how to free it."""
    held = [rec for rec in read_all(slot)]
    if held:
        who = "; ".join(f"{rec['what'] or 'a model task'} (pid {rec['pid']} on {rec['host']}, "
                        f"{time.time() - rec['since']:.0f}s)" for rec in held)
    else:
        # No record here: the lease is another machine's (or another REEL_GPU_LOCK's), or the slot
        # was just given back and this waiter's next ask (Prefect backs off between asks) is pending.
        who = (f"a holder with no record in {holders_dir()} (on another machine or another REEL_GPU_LOCK, "
               "or it was just given back and this task asks again shortly)")
    return (f"waiting {waited:.0f}s for the {slot!r} slot, held by {who}; it frees when that task ends, "
            f"or when a dead holder's lease expires; to free it now: stop that process, or "
            f"`prefect gcl update {slot} --active-slots 0`")
