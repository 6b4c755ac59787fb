"""The heuristic director's way to shorten a narration line that runs longer than its shot: keep
the opening clause (cut at a phrase mark where one falls early enough), else the first words."""

from __future__ import annotations

import math

from reel.schema import UNSPACED_LANGS

CLAUSE_ENDS = ",;:—–、，；："
FULL_STOPS = ".!?。！？।"
MIN_WORDS, MIN_CHARS = 3, 4


def shorter_line(line: str, lang: str, fraction: float) -> str:
    """About `fraction` of the line, cut at a clause end when one is near, ending in a full stop;
    the line unchanged when it is already as short as a line can usefully be."""
    line = line.strip()
    stop = line[-1] if line and line[-1] in FULL_STOPS else ("。" if lang in UNSPACED_LANGS else ".")
    body = line.rstrip(FULL_STOPS + CLAUSE_ENDS + " ")
    if lang in UNSPACED_LANGS:
        units, joiner, least = list(body), "", MIN_CHARS
    else:
        units, joiner, least = body.split(), " ", MIN_WORDS
    keep = max(least, math.floor(len(units) * fraction))
    if keep >= len(units):
        return line
    clause = [i + 1 for i, u in enumerate(units[:keep]) if i + 1 >= least and u[-1] in CLAUSE_ENDS]
    cut = clause[-1] if clause else keep
    return joiner.join(units[:cut]).rstrip(CLAUSE_ENDS + " ") + stop
