"""First-Block Cache on every expert of a Wan pipeline, with the threshold of each call.

Two implementations of the same idea (skip the remaining blocks of a step when the first block's
residual barely changed since the last step):

- "diffusers" (the default): diffusers' own per-module hook,
  `transformer.enable_cache(FirstBlockCacheConfig(threshold=...))`. Its state lives on each
  expert and in each CFG branch (the pipeline runs the branches in `cache_context("cond"/"uncond")`)
  and is reset by the pipeline at the end of every call. A new threshold re-registers the hooks
  (a compiled expert then recompiles once for it).
- "para-attn": ParaAttention's Wan adapter. `apply_cache_on_transformer(transformer)` takes no
  settings and patches the instance once; the threshold and the step count live in a cache
  context. Its `apply_cache_on_pipe` is not used: it patches the pipeline *class* once per process
  with the apply-time kwargs, so a later preset's threshold would be ignored. Here every call opens
  its own context instead, one per expert: a context holds the previous step's first-block
  residual, so a shared one would let the low-noise expert's first step (at the boundary) reuse
  the high-noise expert's residual. Each expert switches to its own context while its forward
  runs (module hooks). With CFG each step runs an expert twice, so the alternate buffers
  (`enable_alter_cache`) keep cond and uncond apart.

Off (threshold None) for a call: the diffusers hooks are removed; para-attn's patched experts get
a context with threshold 0, which never reuses a step. Step-distilled schedules (a few steps, each
one decisive) never cache: see `threshold_for`.
"""

from __future__ import annotations

import contextlib
import functools
import logging

from reel.errors import UserError

log = logging.getLogger(__name__)

IMPLS = ("diffusers", "para-attn")
# A step-distilled checkpoint (lightx2v's 4-step A14B, Hummingbird's 3-step TI2V) runs at most this
# many steps; skipping one of them is skipping a quarter of the picture, so the cache stays off.
DISTILLED_MAX_STEPS = 8


@functools.cache
def para_attn_api():
    """para-attn's (apply_cache_on_transformer, utils) or None, warned once when not installed."""
    try:
        from para_attn.first_block_cache import utils
        from para_attn.first_block_cache.diffusers_adapters import apply_cache_on_transformer
    except ImportError as exc:
        log.warning("para-attn is not installed (%s): rendering without First-Block Cache; "
                    "`pip install para-attn` (pip <= 26.2) enables it, or use REEL_FBCACHE=diffusers", exc)
        return None
    return apply_cache_on_transformer, utils


def threshold_for(threshold: float | None, steps: int) -> tuple[float | None, str]:
    """(the threshold to run with, why) for a call asking `threshold` at `steps` steps."""
    if not threshold:
        return None, "off in the preset"
    if steps <= DISTILLED_MAX_STEPS:
        return None, f"off: {steps} steps is a step-distilled schedule"
    return threshold, "on"


def check_impl(impl: str) -> str:
    if impl not in IMPLS:
        raise UserError(f"unknown First-Block Cache implementation {impl!r} (REEL_FBCACHE); "
                        f"use one of: {', '.join(IMPLS)}")
    return impl


class FirstBlockCache:
    """The cache state of one loaded pipeline. `during(...)` wraps one pipeline call."""

    def __init__(self, impl: str = "diffusers"):
        self.impl = check_impl(impl)
        self._para_patched = False
        self._diffusers_threshold: float | None = None  # what the diffusers hooks on the experts run at

    def experts(self, pipe) -> list:
        return [t for t in (pipe.transformer, getattr(pipe, "transformer_2", None)) if t is not None]

    @contextlib.contextmanager
    def during(self, pipe, threshold: float | None, steps: int, cfg: bool):
        """Run the body with the cache at `threshold` (None: off) on every expert. Yields what ran,
        for the render record: {"impl": "diffusers" | "para-attn" | None, "threshold": float | None,
        "experts": n, "note": why it is on or off}."""
        threshold, note = threshold_for(threshold, steps)
        if note.startswith("off: "):
            log.info("FBCache %s", note)
        experts = self.experts(pipe)
        ran = {"impl": self.impl if threshold is not None else None, "threshold": threshold,
               "experts": len(experts) if threshold is not None else 0, "note": note}
        if self.impl == "diffusers":
            self._diffusers(experts, threshold)
            yield ran
            return
        api = para_attn_api() if threshold is not None or self._para_patched else None
        if api is None:
            if threshold is not None:
                ran.update(impl=None, threshold=None, experts=0, note="off: para-attn is not installed")
            yield ran
            return
        apply_cache_on_transformer, utils = api
        for expert in experts:
            apply_cache_on_transformer(expert)  # once per instance (it marks _is_cached)
        self._para_patched = True
        # Patched experts need a context on every call; threshold 0 never reuses a step.
        handles = []
        for expert in experts:
            context = utils.create_cache_context(residual_diff_threshold=threshold or 0.0,
                                                 num_inference_steps=steps, enable_alter_cache=cfg)
            handles += _switch_context(expert, context, utils)
        try:
            yield ran
        finally:
            for handle in handles:
                handle.remove()

    def _diffusers(self, experts: list, threshold: float | None) -> None:
        """Hooks at `threshold` on every expert (re-registered only when it changes), or none."""
        from diffusers.hooks import FirstBlockCacheConfig

        if threshold == self._diffusers_threshold:
            return
        for expert in experts:
            if expert.is_cache_enabled:
                expert.disable_cache()
            if threshold is not None:
                expert.enable_cache(FirstBlockCacheConfig(threshold=threshold))
        self._diffusers_threshold = threshold


def _switch_context(expert, context, utils) -> list:
    """Hooks that make `context` para-attn's current cache context while `expert`'s forward runs
    (and put back the one before after it, even when it raises)."""
    outer: list = []

    def enter(*_):
        outer.append(utils.get_current_cache_context())
        utils.set_current_cache_context(context)

    def leave(*_):
        utils.set_current_cache_context(outer.pop() if outer else None)

    return [expert.register_forward_pre_hook(enter), expert.register_forward_hook(leave, always_call=True)]
