"""The small tagger's slips, mended on its own parse (en_core_web_sm reads 'in a stable' as an
adjective, 'while her parrot watches' as a noun, 'her teddy bear' as 'teddy' doing 'bear'); WordNet
says which words are nouns.
"""

from __future__ import annotations

from . import wordnet

DETERMINERS = {"det", "poss", "predet"}


def split_compounds(doc) -> list[tuple[int, int]]:
    """Two words WordNet lists as one noun ('teddy bear', 'pocket watch') that the parse did not
    read as a noun and its modifier: their character spans."""
    spans = []
    for a, b in zip(doc, doc[1:]):
        if a.is_alpha and b.is_alpha and a.is_lower and b.is_lower and a.whitespace_ == " " and \
                {a.pos_, b.pos_} <= CONTENT and \
                not (a.head == b and a.dep_ in ("compound", "amod", "nmod")) and wordnet.kinds(f"{a.lower_} {b.lower_}"):
            spans.append((a.idx, b.idx + len(b.text)))
    return [sp for k, sp in enumerate(spans) if not (k and spans[k - 1][1] > sp[0])]  # no overlaps


CONTENT = {"NOUN", "PROPN", "VERB", "ADJ"}  # no 'cave in' ('cave-in' is a noun too)
NOMINAL = {"nsubj", "nsubjpass", "dobj", "pobj", "dative", "attr"}
CLAUSES = {"advcl", "ccomp", "relcl"}


def mend_tags(doc) -> None:
    """Two slips of the small tagger, mended on its own tree: a word in a noun's slot after an article
    but tagged an adjective ('in a stable', 'a magician repairs') is a noun where WordNet has it as
    one; a clause the tagger took for a noun ('while her parrot watches') is a verb, and a noun hung on
    a later verb as a compound ('while his parrot watches') is its subject."""
    for t in doc:
        last = t.i + 1 == len(doc) or doc[t.i + 1].pos_ not in ("NOUN", "PROPN", "ADJ")  # 'a young blacksmith' is no noun 'young'
        if t.pos_ == "ADJ" and t.dep_ in NOMINAL and last and wordnet.kinds(t.lower_) \
                and any(c.dep_ in DETERMINERS or c.pos_ == "DET" for c in t.children):
            t.tag_, t.pos_ = "NN", "NOUN"
        elif t.pos_ == "NOUN" and t.dep_ in CLAUSES and any(c.dep_ == "mark" for c in t.children):
            t.tag_, t.pos_ = "VBZ" if t.lower_.endswith("s") else "VBP", "VERB"  # 'while her parrot watches'
    for t in doc:
        if t.dep_ == "compound" and t.pos_ == "NOUN" and t.head.pos_ == "VERB" and t.i < t.head.i:
            t.dep_ = "nsubj"
    _mend_object(doc)


def _mend_object(doc) -> None:
    """The word after the main verb, tagged an adjective though WordNet has it only as a noun ('chases
    geese'), is its object; so is a noun pair whose second word the tagger took for a verb ('kicks
    autumn leaves': 'autumn' doing 'leaves')."""
    verb = next((t for t in doc if t.dep_ == "ROOT" and t.pos_ == "VERB"), None)
    if verb is None or verb.i + 1 >= len(doc) or any(c.dep_ in ("dobj", "obj") for c in verb.children):
        return
    first = doc[verb.i + 1]
    if first.pos_ == "ADJ" and first.head == verb and wordnet.kinds(first.lower_) and not wordnet.adjective(first.lower_):
        first.tag_, first.pos_, first.dep_ = "NN" if wordnet.base(first.lower_) == first.lower_ else "NNS", "NOUN", "dobj"
        return
    second = doc[verb.i + 2] if verb.i + 2 < len(doc) else None
    if second is not None and first.pos_ == "NOUN" and second.pos_ == "VERB" and second.tag_ == "VBZ" \
            and second.head == verb and not any(c.dep_ in ("mark", "aux") for c in second.children) \
            and wordnet.kinds(second.lower_):
        second.tag_, second.pos_, second.dep_ = "NNS", "NOUN", "dobj"
        first.head, first.dep_ = second, "compound"
