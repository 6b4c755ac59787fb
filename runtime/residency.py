"""One GPU, one owner: which process may keep heavy models loaded on a GPU, and the hand-over between
models (waiting until the memory a load needs is actually free).

The `gpu` slot (runtime/gpu_slot.py) serialises model *tasks*; it says nothing about models a process
keeps loaded between its tasks. So a process must also hold this GPU's residency lease (a flock on
`<gpu lock>.resident`) while any heavy model of it is loaded. A process that needs the lease while
another holds it announces itself (a shared flock on `<gpu lock>.want`) and waits; the holder's
watcher thread sees the announcement while the holder is not using the GPU, unloads its heavy
models and lets go, and the waiter loads. Both locks are released by the OS if a process dies.

Before each heavy load, the free memory of the card (torch.cuda.mem_get_info) must reach what the
plan says the model needs: a dying vLLM worker or another program may still hold it for a while.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from typing import IO, Callable

log = logging.getLogger(__name__)


class GpuBusy(RuntimeError):
    """The GPU never became free for this load: another process (or program) kept it. Retryable."""


class Lease:
    """This process's residency lease on its GPU, and the watcher that gives it up when asked."""

    def __init__(self) -> None:
        self._fh: IO | None = None
        self._guard = threading.Lock()  # check-and-unload is atomic against the task that starts using the GPU
        self.in_use = False  # a model task of this process holds the gpu slot right now
        self.on_request: Callable[[], None] = lambda: None  # unloads every heavy model (set by the host)

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> None:
        """Hold the lease, waiting (bounded by REEL_MEMORY_WAIT_S) for the holder to unload."""
        from reel.settings import get_settings

        if self._fh is not None:
            return
        s = get_settings()
        path = s.resident_lock_path
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a+")
        want = open(path.with_suffix(".want"), "a+")
        try:
            fcntl.flock(want, fcntl.LOCK_SH)  # "someone waits": the holder's watcher looks for this
            deadline, told = time.monotonic() + s.memory_wait_s, False
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not told:
                        log.info("another process keeps models loaded on %s; waiting for it to unload them",
                                 s.gpu_device)
                        told = True
                    if time.monotonic() > deadline:
                        fh.close()
                        raise GpuBusy(f"another process kept its models loaded on {s.gpu_device} for "
                                      f"{s.memory_wait_s:.0f} s (the lease {path} stayed taken); find it with "
                                      f"`fuser {path}`, or raise REEL_MEMORY_WAIT_S") from None
                    time.sleep(0.05)
        finally:
            fcntl.flock(want, fcntl.LOCK_UN)
            want.close()
        self._fh = fh
        threading.Thread(target=self._watch, args=(fh, s.release_poll_s, path), daemon=True,
                         name="reel-residency").start()

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    def start_using(self) -> None:
        with self._guard:
            self.in_use = True

    def stop_using(self) -> None:
        with self._guard:
            self.in_use = False

    def _watch(self, fh: IO, poll: float, path) -> None:
        want = path.with_suffix(".want")
        while self._fh is fh:
            time.sleep(poll)
            with self._guard:
                if self._fh is not fh:
                    return
                if not self.in_use and _someone_waits(want):
                    log.info("another process waits for the GPU: unloading this process's models")
                    self.on_request()  # unloads, then release() through the host
                    return


def _someone_waits(want_path) -> bool:
    with open(want_path, "a+") as probe:
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(probe, fcntl.LOCK_UN)
        return False


def release_cached() -> None:
    """Hand this process's cached allocator blocks back to the driver: a model just unloaded (and
    Wan's activations before it) leaves them reserved, and neither the free-memory probe nor a new
    vLLM process can use them until then."""
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():  # also true on ROCm builds
        torch.cuda.empty_cache()


def wait_for_free(device: str, need_gib: float, what: str, events=None) -> None:
    """Block until `device` has `need_gib` free (bounded by REEL_MEMORY_WAIT_S); no-op without CUDA.
    The allocator's cache is emptied first (the host calls this before every heavy load, vLLM's too)."""
    from runtime.memory_plan import free_gib
    from reel.settings import get_settings

    release_cached()
    free = free_gib(device)
    if free is None or free >= need_gib:
        return
    wait = get_settings().memory_wait_s
    log.info("the %s model needs %.1f GiB on %s, %.1f GiB free: waiting up to %.0f s for it to be freed",
             what, need_gib, device, free, wait)
    if events is not None:
        events.append(("wait", what, round(free, 1)))
    deadline = time.monotonic() + wait
    while free < need_gib:
        if time.monotonic() > deadline:
            raise GpuBusy(f"{device} still has only {free:.1f} GiB free after {wait:.0f} s; the {what} model "
                          f"needs {need_gib:.1f} GiB. Another program holds the card (see nvidia-smi); stop it, "
                          "use another card (REEL_GPU), or let the plan offload (REEL_OFFLOAD=model, REEL_QUANTIZE=fp8)")
        time.sleep(0.5)
        free = free_gib(device)
    if events is not None:
        events.append(("free", what, round(free, 1)))


def reset_compiled() -> None:
    """Forget torch.compile's graphs and guards of an unloaded model (they pin its tensors and would
    be reused, or recompiled against a limit, for the next model)."""
    import sys

    if "torch" in sys.modules:
        import torch

        torch._dynamo.reset()
