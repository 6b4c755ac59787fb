"""The model host: one process-wide place that decides which model task gets the GPU next,
loads the model it needs (unloading the previous one unless they fit together) and keeps it
resident while further tasks need it.

Scheduling is by model affinity and announced demand: when the GPU frees up, a waiting task whose
model is already resident goes first; then, while a resident heavy model is still expected (a line
of work announced with a `Need` that it asks for that model next: a shot between its render and
its critique, a reel painting its keyframes), nobody, for at most `swap_grace_s` of idle GPU (a
swap costs minutes; the expected request is a moment away); otherwise the earliest waiter, at
once. With every shot's subflow running at once, that renders all first attempts while the video
model is loaded, then critiques them all while the critic is loaded, then sends only the failures
round again: StudioMI300 reloaded the video model and the critic around every critique.

A backend with two sets of weights (Wan2.2's base and step-distilled experts: `use_weights`) is
one model asked for with the weights a request needs: only a waiter on the loaded weights is warm,
and a switch is a model change, so a turbo reel renders its distilled first attempts together.

Backends expose `load()`/`unload()`; GPU backends free their memory in `unload()` (del, gc,
empty_cache; vLLM's worker process exits) and set `heavy = True`. Preview backends are cheap.

What stays loaded together, and how each model loads (resident or model CPU offload, bf16 or FP8,
the vLLM knobs), comes from the memory plan for the card found (runtime/memory_plan.py), so an 82M
voice model never evicts the video model. Without a card every heavy model replaces the last.
Across processes, runtime/residency.py keeps one owner per GPU and waits for the memory to be free.

Backends that declare `cpu = True` (the cpu family) hold no GPU, so they take no GPU turn and no
`gpu` slot: they run beside the GPU work and beside each other, as many at once as this process has
cores (one call at a time per backend unless it declares `reentrant = True`), and their calls record
no GPU window (runtime/cpu_calls.py). REEL_GPU_SLOT_FOR=all puts them back in the queue (see
reel/settings.py).
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import functools
import itertools
import logging
import threading
import time
from typing import Any, Iterator

from models import base
from runtime import cpu_calls
from runtime.gpu_slot import Held, gpu_slot
from runtime.residency import Lease, reset_compiled, wait_for_free
from reel import stage
from reel.errors import BackendUnavailable

_cond = threading.Condition(threading.RLock())
_busy = False
_waiting: list[tuple[int, tuple[str, str], str | None]] = []  # (ticket, (role, name), weights)
_ticket = itertools.count()
_resident: dict[tuple[str, str], Any] = {}
_fits_together: set[frozenset[str]] = set()
_sizes: dict = {}
_freed_at = 0.0
_lease = Lease()
_expected: collections.Counter = collections.Counter()  # role -> lines of work that ask for its model next
_lines: dict[str, "Need"] = {}
_line_of: contextvars.ContextVar["Need | None"] = contextvars.ContextVar("reel_line", default=None)
events: collections.deque = collections.deque(maxlen=1000)  # (load|unload|wait|free, role, ...) in order


def allow_together(pairs: list[list[str]]) -> None:
    """Roles an operator declares fit together (a preset's fits_together), on top of the plan's pairs."""
    _fits_together.clear()
    _fits_together.update(frozenset(p) for p in pairs)


def for_preset(preset) -> None:
    """Plan memory at this preset's sizes, with its declared pairs."""
    allow_together(preset.fits_together)
    _sizes.update(size=tuple(preset.render_size), frames=preset.frames, fps=preset.fps,
                  master=tuple(preset.master_size))


def plan():
    """The memory plan for the card this process uses, or None when no card is found."""
    from runtime import memory_plan
    from reel.settings import get_settings

    s = get_settings()
    gib = memory_plan.card_gib(s.gpu_device)
    if gib is None:
        return None
    from runtime.external_gpu import external_gib

    gib -= external_gib(gib)  # a `vllm serve` on the same card keeps its share: ours is the rest
    return _plan(gib, s.quantize, s.offload, s.vllm_gpu_memory_utilization, s.vllm_max_model_len,
                 s.vllm_max_num_seqs, s.vllm_max_images, tuple(sorted(_sizes.items())))


@functools.cache
def _plan(gib, quantize, offload, utilization, max_model_len, max_num_seqs, max_images, sizes):
    from runtime import memory_plan

    return memory_plan.plan_for(gib, quantize=quantize, offload=offload, utilization=utilization,
                                max_model_len=max_model_len, max_num_seqs=max_num_seqs, max_images=max_images,
                                **dict(sizes))


def _heavy(backend) -> bool:
    """Holds GPU memory while loaded: a heavy backend not routed to the CPU."""
    return backend.heavy and not str(backend.device).startswith("cpu")


def _gib(role: str, backend, card) -> tuple[float, float]:
    """(idle, peak) GiB of a loaded backend: a stand-in's own figure, else the plan's for its role."""
    if backend.footprint_gib is not None:
        return backend.footprint_gib, backend.footprint_gib
    if card is None or role not in card.stages:
        return 0.0, 0.0
    return card.stage(role).resident_gib, card.stage(role).peak_gib


def _apply_plan(role: str, backend, card) -> None:
    """How this backend loads on this card: every heavy backend takes its stage of the plan in
    `apply_plan` (offload / FP8 for diffusers, engine knobs for vLLM), so a backend that lacks it
    fails here rather than silently loading bf16 resident on any card."""
    if card is None or role not in card.stages:
        return
    stage = card.stage(role)
    if stage.mode == "does not fit":  # its weights fit (_refuse_if_too_big): the plan's estimates never refuse
        logging.getLogger(__name__).warning("the %s model may not fit this card; loading it %s and offloaded "
                                            "anyway (%s)", role, "FP8" if stage.fp8 else "bf16", stage.why)
    elif stage.why:  # e.g. resident fits on weights alone, not with what the allocator keeps reserved
        logging.getLogger(__name__).info("the %s model loads %s, because %s", role, stage.mode, stage.why)
    backend.apply_plan(stage)


def _refuse_if_too_big(role: str, backend, card) -> None:
    """One clear line when the card cannot hold even the smallest form of the model (its weights
    alone, FP8, one component at a time); estimates of activations never refuse a load."""
    if card is None or role not in card.stages or backend.footprint_gib is not None:
        return
    stage = card.stage(role)
    smallest = (stage.weights_gib(True) if stage.runtime == "vllm"
                else max(c.gib(True) for c in stage.components))
    if stage.mode == "does not fit" and smallest > card.usable_gib:
        raise BackendUnavailable(f"the {role} model {stage.model} needs {smallest:.1f} GiB for its weights alone "
                                 f"(FP8{'' if stage.runtime == 'vllm' else ', offloaded'}) and this "
                                 f"{card.gpu_gib:g} GiB card has {card.usable_gib:.1f} GiB usable; use a larger "
                                 "card (REEL_GPU), or a smaller checkpoint (REEL_MODEL_" + role.upper() + ")")


def _ready(key: tuple[str, str], weights: str | None) -> bool:
    """The model is loaded, with the weights asked for (None: any; a backend with one set: any)."""
    backend = _resident.get(key)
    return backend is not None and (weights is None or backend.weights in (None, weights))


def _switch(role: str, backend, weights: str | None) -> None:
    """Put a loaded two-weight backend on `weights` (recorded like a load: it is a model change)."""
    if weights is not None and backend.distills and backend.weights != weights:
        backend.use_weights(weights)
        events.append(("switch", role, weights))


def _next_up() -> tuple[int | None, float]:
    """The ticket that may go now (None: wait), and how long to wait before asking again."""
    warm = [w for w in _waiting if _ready(w[1], w[2])]
    if warm:
        return min(warm)[0], 0.0
    from reel.settings import get_settings

    expected = any(_expected[role] for (role, _), b in _resident.items() if b.heavy)
    left = _freed_at + get_settings().swap_grace_s - time.monotonic()
    if expected and left > 0:
        return None, left
    return min(_waiting)[0], 0.0


class Need:
    """The model one line of work (a reel's own thread, a shot, a background stage) asks the host
    for next, announced so that the host keeps that model loaded for it rather than swap it out a
    moment before the request comes. Announce only a request that comes without another model
    first: a line kept waiting for another model would hold the GPU idle for nothing (for at most
    `swap_grace_s`, the bound on every announcement). By role: a request for another backend of
    the role would replace the resident one a moment later anyway."""

    def __init__(self) -> None:
        self.role: str | None = None

    def next(self, role: str | None) -> None:
        """This line's next request is for `role`'s model; None: it asks for nothing more."""
        with _cond:
            if role is not None:
                _expected[role] += 1
            if self.role is not None:
                _expected[self.role] -= 1
                if _expected[self.role] <= 0:
                    del _expected[self.role]
            self.role = role
            _cond.notify_all()  # a waiter may go now

    def close(self) -> None:
        self.next(None)

    def __enter__(self) -> Need:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def line(label: str, first: str | None = None) -> Iterator[Need]:
    """The `Need` of the line of work `label`, withdrawn when the first block that holds it ends;
    the stages run inside it announce their models on it (`requesting`). Blocks nested in it share
    it: the thread that starts a shot announces the shot's `first` model before the shot's subflow
    has started, and the shot (its own block) goes on from there."""
    with _cond:
        need = _lines.setdefault(label, Need())
    token = _line_of.set(need)
    if first is not None:
        need.next(first)
    try:
        yield need
    finally:
        _line_of.reset(token)
        need.close()
        with _cond:
            if _lines.get(label) is need:
                del _lines[label]


@contextlib.contextmanager
def requesting(role: str | None) -> Iterator[None]:
    """A stage that asks for `role`'s model is starting on this line of work (reel/stage.py's
    runner says so for every stage that declares a role): announced until the stage ends."""
    need = _line_of.get() or Need()
    need.next(role)
    try:
        yield
    finally:
        if need.role == role:
            need.next(None)


def requesting_in_background(role: str):
    """A background stage's request, announced on its own until the returned call withdraws it."""
    need = Need()
    need.next(role)
    return need.close


stage.announce_with(requesting, requesting_in_background)


def _unload(key: tuple[str, str]) -> None:
    backend = _resident.pop(key)
    backend.unload()
    events.append(("unload", key[0]))
    # dynamo's caches are process-wide: reset them only when no model left loaded holds compiled
    # graphs (a resident compiled expert would otherwise recompile for minutes on its next call).
    if _heavy(backend) and not any(b.holds_compiled for b in _resident.values()):
        reset_compiled()
    if not any(_heavy(b) for b in _resident.values()):
        _lease.release()


def _release_on_request() -> None:
    """Another process waits for this GPU and this one is not using it: unload every heavy model."""
    with _cond:
        for key, backend in list(_resident.items()):
            if _heavy(backend):
                _unload(key)
        _lease.release()


_lease.on_request = _release_on_request


def _load(role: str, name: str, weights: str | None = None) -> Any:
    key = (role, name)
    if key in _resident:
        _switch(role, _resident[key], weights)
        return _resident[key]
    from reel.settings import get_settings

    s = get_settings()
    backend = base.create(role, name, **s.backend_options(role))
    if _heavy(backend):
        card = plan()
        _refuse_if_too_big(role, backend, card)
        _apply_plan(role, backend, card)
        peak_new = _gib(role, backend, card)[1]
        budget = card.usable_gib if card else 0.0
        together = _fits_together | {frozenset(p) for p in (card.together if card else [])}
        kept = []
        for other_key, other in list(_resident.items()):
            if not _heavy(other):
                continue
            if frozenset((role, other_key[0])) in together:
                kept.append(other_key)
            else:
                _unload(other_key)
        # Pairs fit; three or more must fit as a whole: the oldest go first.
        while kept and card and sum(_gib(k[0], _resident[k], card)[0] for k in kept) + peak_new > budget:
            _unload(kept.pop(0))
        _lease.acquire()  # one owner per GPU: wait for another process to unload its models
        if card is not None:
            need = (card.stage(role).vllm.get("gpu_memory_utilization", 0) * card.gpu_gib
                    if card.stage(role).vllm else peak_new)
            wait_for_free(backend.device or s.gpu_device, need, role, events)
    if weights is not None and backend.distills:
        backend.use_weights(weights)  # not loaded yet: only picks what the load brings in
    backend.load()
    events.append(("load", role))
    _resident[key] = backend
    return backend


@contextlib.contextmanager
def use(role: str, name: str, weights: str | None = None) -> Iterator[tuple[Any, Held]]:
    """Wait for this model's turn on the GPU, hold the `gpu` slot, and yield the loaded backend
    (on `weights`, for a backend with two sets: models.base.FULL or DISTILLED). A CPU backend (see
    the module's note) waits only for a free core and yields an empty Held."""
    global _busy
    key = (role, base.resolve_name(role, name))
    backend_class = base.backend_class(*key)
    if cpu_calls.on_cpu(backend_class):
        with cpu_calls.call(key, backend_class, events) as backend:
            yield backend, Held()
        _unload_unless_kept(key)
        return
    ticket = next(_ticket)
    with _cond:
        _waiting.append((ticket, key, weights))
        while True:
            up, wait = (None, None) if _busy else _next_up()
            if up == ticket:
                break
            _cond.wait(timeout=wait or None)
        _waiting.remove((ticket, key, weights))
        _busy = True
    try:
        with gpu_slot() as held:
            _lease.start_using()
            try:
                backend = _load(*key, weights)
                yield backend, held
                _unload_unless_kept(key)
            finally:
                _lease.stop_using()
    finally:
        global _freed_at
        with _cond:
            _busy = False
            _freed_at = time.monotonic()
            _cond.notify_all()


def _unload_unless_kept(key: tuple[str, str]) -> None:
    from reel.settings import get_settings

    if not get_settings().keep_models:
        unload(*key)


def unload(role: str, name: str) -> None:
    """Unload one model now if it is resident (call it while holding its turn, inside `use`)."""
    key = (role, base.resolve_name(role, name))
    with _cond:
        if key in _resident:
            _unload(key)
    cpu_calls.unload([key], events)


def unload_all() -> None:
    with _cond:
        for key in list(_resident):
            _unload(key)
        _lease.release()
    cpu_calls.unload_all(events)
