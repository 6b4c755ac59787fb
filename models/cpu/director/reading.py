"""What an English sentence says, read with spaCy's parser (en_core_web_sm, from PyPI with the project).

The parse finds the lead (the subject, with its count and age words), the main verb with its
objects, every noun phrase, the place phrases (a locative preposition's object, with its
modifiers: "a lavender field", "a flooded gutter") and the time and weather phrases ("as the sun
rises", "during the monsoon"). Words are carried as the prompt says them: nothing is looked up
in a table here, so a word no table lists is still read. The director's tables then add style.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

from . import wordnet
from .pipeline import EXCLUDE, PIPELINE, _nlp  # noqa: F401 - the pipeline, named where it is read
from .tags import DETERMINERS, mend_tags, split_compounds
from .text import WHEN


# Prepositions that say where the reel is (their object is a place) and those that say which way
# someone moves (kept with the action: "weaves through traffic", "race paper boats down a gutter").
WHERE = {"in", "at", "on", "inside", "by", "beside", "near", "along", "under", "outside", "behind", "within", "atop",
         "between", "among", "amid", "amongst"}
WAY = {"across", "through", "down", "up", "into", "onto", "toward", "towards", "past", "over", "around", "off",
       "out", "along", "from", "to"}
# Of the WHERE words, those that put someone inside a place rather than beside a thing ('reads under
# a tree in a courtyard': the courtyard is where the reel is, the tree a thing in it).
WITHIN = {"in", "at", "on", "inside", "within", "along", "atop"}


@dataclass(frozen=True)
class Phrase:
    text: str  # as written, without its article: "lavender field", "paper boats", "Rio de Janeiro"
    head: str  # the head noun's lemma, lowercase: "field", "boat"
    start: int  # character offsets of the whole phrase in the prompt
    end: int
    plural: bool = False
    proper: bool = False  # a name: "Provence", "the Seine"
    prep: str = ""  # the preposition that leads it, if any
    bare: bool = False  # singular with no article, number or possessive: 'grills corn', 'molten glass'
    aside: bool = False  # its preposition hangs on the subject or a participle: what someone wears or what
    # covers a thing ('a man [in a grey suit] waits', 'a tunnel covered [in coal dust]'): a place only if none else
    nouns: tuple[str, ...] = ()  # the nouns it says, lemmas: 'bouquet of sunflowers' -> bouquet, sunflower
    host: int = -1  # where the noun its preposition hangs on starts: 'a pool [in the garden]' -> pool


@dataclass
class Reading:
    text: str = ""  # the prompt read (phrase offsets point into it)
    lead: Phrase | None = None  # the subject noun phrase
    lead_words: list[str] = field(default_factory=list)  # its modifiers: "old", "two", "young"
    count: int = 1  # how many the subject names ("two brothers": 2)
    owned: bool = False  # the subject belongs to someone: "a potter's hands", "her voice"
    partners: list[Phrase] = field(default_factory=list)  # "and her grandfather"
    verb: str | None = None  # the main verb as written ("lifts", "race")
    verb_lemma: str | None = None
    action: str | None = None  # the verb with its objects and way: "lifts a honeycomb frame"
    objects: list[Phrase] = field(default_factory=list)  # the verb's direct objects
    places: list[Phrase] = field(default_factory=list)  # objects of WHERE prepositions, in order
    things: list[Phrase] = field(default_factory=list)  # every other noun phrase
    clauses: list[tuple[str, str]] = field(default_factory=list)  # (subject lemma, verb lemma): ("sun", "rise")
    when: list[str] = field(default_factory=list)  # time/weather phrases led by WHEN words, as written
    compounds: list[int] = field(default_factory=list)  # end offsets of nouns that modify a noun: 'grandfather clock'
    beside: list[int] = field(default_factory=list)  # starts of phrases a preposition hangs on the verb itself:
    # 'leans [against a basket]', 'kneels [by her mirror]' (what a verb with no object is done to or by)


HYPHENS = {"-", "\u2010", "\u2011"}  # hyphen-minus, hyphen, non-breaking hyphen


def _parse(text: str):
    """The parse, with each hyphenated word one token again ('x-ray', 'furnace-lit'): the tokenizer
    splits them and the parser may hang the parts apart; merged after, on the parse's own tree."""
    doc = _nlp()(text)
    split = split_compounds(doc)
    if split:  # 'hugs her teddy bear' read as 'teddy' doing 'bear': parsed again with each one word
        joined = _nlp().make_doc(text)
        with joined.retokenize() as merge:
            for start, end in split:
                merge.merge(joined.char_span(start, end))
        for _, component in _nlp().pipeline:
            joined = component(joined)
        verbs = [_main_verb(d) for d in (doc, joined)]
        if None not in verbs and verbs[0].idx == verbs[1].idx:
            doc = joined  # the same main verb: not 'a mountain guide ropes up', where 'guide rope' is a noun too
    with doc.retokenize() as merge:
        i = 1
        while i < len(doc) - 1:
            end = i
            while (end < len(doc) - 1 and doc[end].text in HYPHENS and not doc[end - 1].whitespace_
                   and not doc[end].whitespace_ and doc[end + 1].is_alpha):
                end += 2
            if end > i:
                merge.merge(doc[i - 1:end])
            i = end + 1
    mend_tags(doc)
    return doc


def _chunk_phrase(span, prep: str = "") -> Phrase:
    words = _words(span)
    root = _head(span, words)
    words = words or [root]
    plural = _plural(root)
    # An article the parse hung elsewhere still counts ('a teenager in [a] hoodie smokes': 'a' on the verb).
    led = span.start > 0 and span.doc[span.start - 1].pos_ == "DET"
    bare = not plural and root.pos_ == "NOUN" and not led and not any(
        t.dep_ in DETERMINERS or t.pos_ in ("DET", "NUM") for t in span)
    return Phrase(" ".join(t.text for t in words), root.lemma_.lower(), words[0].idx, root.idx + len(root.text),
                  plural=plural, proper=_proper(root), prep=prep, bare=bare, nouns=_nouns(words))


def _words(span) -> list:
    """The phrase's own words: no article, possessive, pronoun or counting number."""
    return [t for t in span if t.dep_ not in DETERMINERS and t.dep_ != "case" and t.pos_ not in ("DET", "PRON", "PUNCT")
            and not (t.pos_ == "NUM" and t.dep_ == "nummod")]


def _head(span, words: list | None = None):
    """The phrase's head word: the parse's root; a split subject's, or one whose tree names an
    adjective its root ('a young blacksmith plants'), its last word; a run of nouns ends in its head,
    however the parse hung it ('a cattle rancher')."""
    words = _words(span) if words is None else words
    if words and words[-1].pos_ == "NOUN" and all(t.pos_ in ("NOUN", "ADJ") for t in words):
        return words[-1]
    return span.root if (span.root in words and span.root.pos_ != "ADJ") or not words else words[-1]


def _nouns(tokens) -> tuple[str, ...]:
    return tuple(t.lemma_.lower() for t in tokens if t.pos_ == "NOUN")


def _proper(noun) -> bool:
    """A name: tagged so and written with a capital ('blacksmith' tagged PROPN is a trade)."""
    return noun.pos_ == "PROPN" and noun.text[:1].isupper()


def _plural(noun) -> bool:
    """The tag says so, or the lemma does ('bubbles' -> 'bubble' where the tagger said NN)."""
    return noun.tag_ in ("NNS", "NNPS") or (noun.lower_.endswith("s") and noun.lemma_.lower() != noun.lower_)


def _prep_of(token) -> str:
    """The preposition that leads a noun: 'out' for 'out of a tunnel' (a two-word preposition)."""
    if token.dep_ != "pobj" or token.head.dep_ not in ("prep", "advmod", "prt", "ROOT"):
        return ""
    prep = token.head
    if prep.lower_ == "of" and prep.head.lower_ in WAY and prep.head.dep_ in ("prep", "prt", "advmod"):
        return prep.head.lower_
    return prep.lower_


@functools.lru_cache(maxsize=256)
def read(prompt: str) -> Reading:
    """The parse of one English prompt (cached: the director asks more than once)."""
    sentence = prompt[:1].upper() + prompt[1:]  # a sentence parses better than a fragment
    doc = _parse(sentence if sentence.rstrip()[-1:] in ".!?" else sentence + ".")
    reading = Reading(prompt)
    chunks = list(doc.noun_chunks)
    verb = _main_verb(doc)
    subject = next((t for t in verb.children if t.dep_ in ("nsubj", "nsubjpass")), None) if verb is not None else None
    lead_chunk = next((c for c in chunks if subject is not None and c.root == subject), None)
    predicate, shift, subject_span = doc, 0, None
    fronted = lead_chunk is not None and lead_chunk.start > 2 and doc[lead_chunk.start - 1].text == "," \
        and verb is not None and verb.pos_ == "VERB"  # 'Surrounded by books, an old librarian sorts ...'
    if lead_chunk is None or (lead_chunk.start > 2 and not fronted) or _one_of_many(lead_chunk):
        split = _split(doc)
        if split is not None:  # "a mechanic repairs ...": the tagger read "mechanic repairs" as one noun
            subject_span, predicate, shift = split
            inside = [c for c in chunks if subject_span.start <= c.start and c.end <= subject_span.end]
            lead_chunk = _noun_run(inside[0], subject_span.end) if inside else _head_span(subject_span)
            chunks = [c for c in chunks if c.end <= subject_span.end]
            verb = _main_verb(predicate)
    if lead_chunk is not None:
        if verb is not None and lead_chunk.end <= verb.i and subject_span is None:
            lead_chunk = _noun_run(lead_chunk, verb.i)
        reading.lead = _chunk_phrase(lead_chunk)
        reading.lead_words = [t.lower_ for t in lead_chunk[:-1] if t.pos_ in ("ADJ", "NUM")]
        reading.count = _count(lead_chunk)
        reading.owned = any(t.dep_ == "poss" for t in lead_chunk.root.children)
    pchunks = list(predicate.noun_chunks)
    if subject_span is not None:
        inside = [c for c in chunks if c.start > lead_chunk.start and c.end <= subject_span.end]
        # 'a carpenter and his apprentice': a partner follows a conjunction; 'a woman in a red
        # dress', 'a man with a dog': what follows a preposition is something the lead has or wears.
        joined = [c for c in inside if c.start and c.doc[c.start - 1].pos_ in ("CCONJ", "PUNCT")]
        reading.partners = [_chunk_phrase(c) for c in joined]
        reading.things = [_chunk_phrase(c) for c in inside if c not in joined]
    elif lead_chunk is not None:
        reading.partners = [_chunk_phrase(c) for c in chunks if c.root.dep_ == "conj" and c.root.head == lead_chunk.root]
    if verb is not None:
        reading.verb, reading.verb_lemma = verb.text, verb.lemma_.lower()
        reading.action, reading.objects = _action(predicate, verb, pchunks)
        reading.objects = [_shifted(p, shift) for p in reading.objects or _held(predicate, verb, pchunks)]
    used = {reading.lead.start if reading.lead else -1} | {p.start for p in reading.partners}
    for chunk in pchunks if predicate is not doc else chunks:
        phrase = _shifted(_chunk_phrase(chunk, _prep_of(chunk.root)), shift)
        hangs_on = chunk.root.head.head
        if phrase.prep and (hangs_on.dep_ in ("nsubj", "nsubjpass") or (
                hangs_on.tag_ == "VBN" and hangs_on.dep_ in ("acl", "amod"))):
            phrase = replace(phrase, aside=True)
        elif phrase.prep and hangs_on.pos_ == "NOUN":
            phrase = replace(phrase, host=hangs_on.idx + shift)
        if phrase.start in used or (predicate is not doc and chunk.start == 0) or chunk.root.pos_ == "PRON":
            continue
        if phrase.prep and verb is not None and hangs_on == verb:
            reading.beside.append(phrase.start)
        (reading.places if phrase.prep in WHERE else reading.things).append(phrase)
    reading.clauses = [(s.lemma_.lower(), t.lemma_.lower()) for d in {id(doc): doc, id(predicate): predicate}.values()
                       for t in d if t.pos_ in ("VERB", "AUX") for s in t.children if s.dep_ in ("nsubj", "nsubjpass")]
    reading.when = [" ".join(w.text for w in t.subtree) for t in predicate
                    if t.lower_ in WHEN and t.dep_ in ("prep", "mark")]
    # Nouns that modify another noun, the subject's own aside ('a bus driver' works with the bus).
    reading.compounds = [t.idx + shift + len(t.text) for t in predicate
                         if t.dep_ == "compound" and t.pos_ == "NOUN" and t.head.pos_ == "NOUN" and t.i > 0
                         and t.head.dep_ not in ("nsubj", "nsubjpass")]
    return reading


def _held(doc, verb, chunks) -> list[Phrase]:
    """With no object of its own, what a participle on the subject or the verb holds ('a young woman,
    holding a bouquet of roses, waits'): the lead has it."""
    chunk_of = {c.root.i: c for c in chunks}
    return [_with_of(_chunk_phrase(chunk_of[o.i]), o) for t in doc if t.tag_ == "VBG" and t.dep_ in ("acl", "advcl")
            and t.head in (verb, *[c for c in verb.children if c.dep_ == "nsubj"])
            for o in t.children if o.dep_ in ("dobj", "obj") and o.i in chunk_of][:1]


def _split(doc):
    """(subject span, parse of 'She <predicate>' or 'They <predicate>', offset) for the first word
    after the opening noun phrase that parses as a verb once the subject is a pronoun; None when none does."""
    for strict in (True, False):  # a verb the tagger is sure of first; then an -s word it calls a noun
        for i in range(1, min(9, len(doc) - 1)):
            word = doc[i]
            before = doc[i - 1]  # a noun, or a person the tagger called an adjective ('a geologist oils')
            if not word.is_lower or not word.is_alpha or not (
                    before.pos_ in ("NOUN", "PROPN") or (before.pos_ == "ADJ" and wordnet.person(before.lower_))):
                continue
            third = word.lower_.endswith("s") and not word.lower_.endswith("ss")
            stand_in = "She " if third else "They "  # a pronoun subject leaves the verb no other reading
            predicate = _parse(stand_in + doc[i:].text)
            root = _main_verb(predicate)
            if root is not None and root.i == 1 and (root.pos_ == "VERB" or (third and not strict)) and \
                    (wordnet.verb(root.lemma_.lower()) or not wordnet.kinds(word.lower_)):  # 'a lorry driver naps'
                return doc[_chunk_start(doc, i):i], predicate, word.idx - len(stand_in)
    return None


def _one_of_many(chunk) -> bool:
    """'a little girl chases': one article before a plural head is no noun phrase English writes; the
    tagger took the verb for the head ('chases') and the object for the verb."""
    first = chunk[0].lower_
    return first in ("a", "an") and chunk.root.tag_ == "NNS" and len(chunk) > 2


def _noun_run(chunk, end: int):
    """The chunk with the nouns that follow it up to `end` ('a cattle rancher rides': the parse made
    'cattle' a phrase and 'rancher rides' another)."""
    stop = chunk.end
    while stop < end and chunk.doc[stop].pos_ == "NOUN":
        stop += 1
    return chunk.doc[chunk.start:stop]


def _head_span(span):
    """The first noun phrase of a subject span the parser did not chunk: up to its first noun run's end."""
    end = span.start
    while end < span.end and span.doc[end].lower_ not in ("and", "&", ","):
        end += 1
    return span.doc[span.start:end]


def _chunk_start(doc, end: int) -> int:
    start = end
    while start > 0 and (doc[start - 1].pos_ in ("DET", "NUM", "ADJ", "NOUN", "PROPN", "PRON", "CCONJ", "PART") or (
            # a preposition inside the subject: 'a woman in a red dress dances'
            doc[start - 1].pos_ == "ADP" and start > 1 and doc[start - 2].pos_ in ("NOUN", "PROPN"))):
        start -= 1
    return start


def _shifted(phrase: Phrase, shift: int) -> Phrase:
    if not shift:
        return phrase
    return replace(phrase, start=phrase.start + shift, end=phrase.end + shift)


def _main_verb(doc):
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is not None and (root.pos_ in ("VERB", "AUX") or any(c.dep_ == "nsubj" for c in root.children)):
        return root
    return next((t for t in doc if t.pos_ == "VERB" and t.dep_ in ("relcl", "acl", "advcl", "ccomp")), None)


def _count(chunk) -> int:
    for t in chunk:
        if t.pos_ == "NUM" or t.like_num:
            try:
                from spacy.lang.en.lex_attrs import _num_words  # the parser's own number words
                return _num_words.index(t.lower_) if t.lower_ in _num_words else int(t.text)
            except ValueError:
                return 2
    return 2 if _head(chunk).tag_ in ("NNS", "NNPS") else 1


def _without_setting(top) -> list[tuple[int, str]]:
    """A phrase's words without the place or time phrases nested in it ('past icebergs [in Greenland]')."""
    cut = {t.i for p in top.subtree if p is not top and p.dep_ == "prep" and (p.lower_ in WHERE or p.lower_ in WHEN)
           for t in p.subtree}
    return [(t.i, t.text) for t in top.subtree if t.i not in cut]


def _with_of(phrase: Phrase, noun) -> Phrase:
    """An object with its 'of' phrase, which says what it is: 'flock of sheep', 'tray of drinks'."""
    of = next((c for c in noun.children if c.dep_ == "prep" and c.lower_ == "of"), None)
    if of is None:
        return phrase
    tail = [t for t in of.subtree if t.dep_ not in DETERMINERS and t.pos_ != "DET"]
    end = max(t.idx + len(t.text) for t in tail)
    return replace(phrase, text=f"{phrase.text} {' '.join(t.text for t in tail)}", end=end,
                   nouns=phrase.nouns + _nouns(tail))


def _noun_after(verb, word) -> bool:
    """A word after the verb that an article turns into the verb's object: 'hangs the laundry'."""
    if word.lower_.endswith("ly") or word.lower_ in WHEN | WAY | WHERE or not word.is_alpha:
        return False
    if not wordnet.kinds(word.lower_) and wordnet.adverb(word.lower_):
        return False  # 'reads aloud': WordNet has it only as an adverb
    doc = _nlp()(f"She {verb.text} the {word.text}.")
    if doc[3].pos_ != "NOUN" or doc[3].dep_ not in ("dobj", "obj"):
        return False
    return _nlp()(f"Some {word.text} is here.")[1].pos_ == "NOUN"  # a noun on its own too ('alone' is no noun there)


def _action(doc, verb, chunks) -> tuple[str, list[Phrase]]:
    """The verb with its particles, objects ('a tray of drinks') and way ('down a flooded gutter'),
    up to the first place, time or clause break; possessives as written."""
    chunk_of = {c.root.i: c for c in chunks}
    parts: list[tuple[int, str]] = [(verb.i, verb.text)]
    objects: list[Phrase] = []
    had: list[Phrase] = []
    for child in verb.children:
        if child.dep_ == "dative" and child.pos_ == "ADP" and child.i > verb.i:
            parts += _without_setting(child)  # 'pours tea [for her guests]': a preposition, not an object
        elif child.i > verb.i and (child.dep_ in ("dobj", "obj", "attr", "dative", "oprd") or (
                child.pos_ in ("NOUN", "PROPN") and child.dep_ not in ("nsubj", "nsubjpass", "conj", "appos"))):
            span = chunk_of.get(child.i)
            left = span.start if span is not None else child.i
            words = [t for t in doc[left:child.i + 1]]
            for prep in (c for c in child.children if c.dep_ == "prep" and c.lower_ == "of"):
                words += list(prep.subtree)
            parts += [(t.i, t.text) for t in words]
            phrase = (_chunk_phrase(span) if span is not None else
                      Phrase(child.text, child.lemma_.lower(), child.idx, child.idx + len(child.text), _plural(child)))
            objects.append(_with_of(phrase, child))
        elif child.dep_ == "advmod" and child.i == verb.i + 1 and _noun_after(verb, child):
            # "hangs laundry": a bare noun the tagger read as an adverb; the verb's object all the same
            parts.append((child.i, child.text))
            objects.append(Phrase(child.text, child.lemma_.lower(), child.idx, child.idx + len(child.text), bare=True))
        elif child.dep_ in ("prt", "xcomp", "advmod") and child.i > verb.i and child.pos_ in ("ADP", "ADV", "VERB", "PART"):
            if child.dep_ == "advmod" and child.lower_ in WHEN:
                continue
            parts += _without_setting(child)
        elif child.dep_ == "prep" and child.lower_ in (WAY - {"from", "to"}) | {"for", "with", "to"} and child.i > verb.i:
            parts += _without_setting(child)
            if child.lower_ == "with":  # 'cycles ... with a stack of pizzas': what the lead has, after any object
                had += [_with_of(_chunk_phrase(chunk_of[n.i]), n) for n in child.children
                        if n.dep_ == "pobj" and n.i in chunk_of]
    objects += had
    parts.sort()
    seen: set[int] = set()
    words = [text for i, text in parts if not (i in seen or seen.add(i))]
    return " ".join(words).strip(" ,"), objects
