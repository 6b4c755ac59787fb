"""The offline director: plans a reel from one sentence with rules and tables, no model.

It follows the same rules as the LLM director (prompts/planner_system.md) so the rest of the
pipeline can run and be tested anywhere. Every choice comes from a random.Random seeded by a
hash of (seed, prompt, purpose): the plan is a pure function of (prompt, n_shots, seed), and
changing how one part chooses does not reshuffle the others. Phrases and tables live in
prompts/ (director_rules.json, characters.json, locales.json, narration.json); this module
reads the prompt and assembles.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from reel import prompts
from reel.errors import UserError
from reel.schema import SCENE, UNSPACED_LANGS, Plan, Shot
from models.preview.narration_cut import shorter_line

RULES = "director_rules.json"
CAST = "characters.json"
LOCALES = "locales.json"
NARRATION = "narration.json"
# Every data file the plan depends on: their digest belongs in the plan stage's cache key.
DATA_FILES = (RULES, CAST, LOCALES, NARRATION)

KEYS = "ABC"
SPACED_WORDS = (6, 10)  # narration words per line, spaced languages
UNSPACED_CHARS = (6, 24)  # narration characters per line, Japanese and Chinese


# ---------------------------------------------------------------- text matching


def _fold_map(text: str) -> tuple[str, list[int]]:
    """Lowercase, accent-free text, and for each of its characters the index it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text.replace("\u2019", "'")):
        for c in unicodedata.normalize("NFKD", ch):
            if unicodedata.combining(c):
                continue
            for low in c.lower():  # lower() may expand one character into two
                out.append(low)
                where.append(i)
    return "".join(out), where


def fold(text: str) -> str:
    return _fold_map(text)[0]


@dataclass(frozen=True)
class Match:
    start: int  # positions in the original text
    end: int
    key: str  # the table phrase that matched
    text: str  # as written in the prompt


def find_phrases(text: str, phrases: Iterable[str], plural: bool = False) -> list[Match]:
    """Whole-word occurrences of phrases (case- and accent-insensitive), in text order, longest first."""
    pattern, keys = _pattern(tuple(phrases), plural)
    folded, where = _fold_map(text)
    hits = []
    for m in pattern.finditer(folded):
        start, end = where[m.start()], where[m.end() - 1] + 1
        hits.append(Match(start, end, keys[m.group(1)], text[start:end]))
    return hits


@functools.lru_cache(maxsize=64)
def _pattern(phrases: tuple[str, ...], plural: bool) -> tuple[re.Pattern, dict[str, str]]:
    """One alternation for a whole table, longest phrase first, so 'New York' wins over 'York'."""
    keys: dict[str, str] = {}
    for phrase in phrases:
        keys.setdefault(fold(phrase), phrase)
    body = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(rf"(?<![\w'])({body}){'(?:e?s)?' if plural else ''}(?!\w)"), keys


def first_phrase(text: str, phrases: Iterable[str], plural: bool = False) -> Match | None:
    hits = find_phrases(text, phrases, plural)
    return hits[0] if hits else None


def _rng(prompt: str, seed: int, purpose: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{prompt}\x00{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _an(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def _words(*parts: str) -> int:
    return sum(len(p.split()) for p in parts)


# ---------------------------------------------------------------- setting


@dataclass(frozen=True)
class Locale:
    lang: str
    match: Match | None
    is_city: bool


def detect_locale(text: str) -> Locale:
    """The narration language of the first place mentioned (default American English)."""
    table = prompts.table(LOCALES)
    kinds = {p: (lang, group == "cities") for lang, groups in table["locales"].items()
             for group, places in groups.items() for p in places}
    hit = first_phrase(text, kinds)
    if hit is None:
        return Locale(table["default_lang"], None, False)
    lang, is_city = kinds[hit.key]
    return Locale(lang, hit, is_city)


def detect_language(text: str) -> str:
    return detect_locale(text).lang


def time_of_day(text: str) -> str:
    """The first time-of-day word in the text; hints (neon, moonlit) only when there is none."""
    rules = prompts.table(RULES)
    words = {k: name for name, t in rules["times"].items() for k in t["keywords"]}
    hit = first_phrase(text, words)
    if hit:
        return words[hit.key]
    hints = {k: name for name, ks in rules["time_hints"].items() for k in ks}
    hit = first_phrase(text, hints)
    return hints[hit.key] if hit else rules["default_time"]


_TOKEN = re.compile(r"[^\W\d_][\w'\u2019-]*")
_ARTICLES = {"a", "an", "the", "this", "that", "its", "their", "her", "his"}


def _modifiers(prefix: str, adjectives: set[str]) -> tuple[list[str], str | None]:
    """Capitalised words (a proper name like 'Pacific Heights') and one listed adjective just before a noun."""
    tokens = list(_TOKEN.finditer(prefix))
    proper: list[str] = []
    adjective = None
    end = len(prefix)
    for tok in reversed(tokens):
        if prefix[tok.end():end].strip():  # punctuation between: the phrase ended
            break
        word = tok.group()
        if word[0].isupper() and fold(word) not in _ARTICLES and len(proper) < 3 and adjective is None:
            proper.insert(0, word)
        elif fold(word) in adjectives:
            adjective = word.lower()
            break
        else:
            break
        end = tok.start()
    return proper, adjective


def detect_place(text: str, locale: Locale) -> str:
    """The setting phrase used after 'the' in shots: '[adjective] [Proper or City] noun'."""
    rules = prompts.table(RULES)
    hit = first_phrase(text, rules["places"], plural=True)
    city = _proper_case(locale.match.text) if locale.match and locale.is_city else None
    if hit is None:
        adjective, noun = rules["default_place"].split(" ", 1)
        return " ".join(w for w in (adjective, city, noun) if w)
    noun = rules["places"][hit.key]
    proper, adjective = _modifiers(text[:hit.start], {fold(a) for a in rules["place_adjectives"]})
    if proper and hit.text[0].isupper():  # part of a proper name: "Hyde Park", "Golden Gate Bridge"
        noun = _proper_case(hit.text)
    middle = " ".join(_proper_case(w) for w in proper) if proper else city
    return " ".join(w for w in (adjective, middle, noun) if w)


def _proper_case(name: str) -> str:
    """'tokyo' and 'TOKYO' read 'Tokyo': shot prompts never shout."""
    return name.title() if name.islower() or name.isupper() else name


def detect_weather(text: str) -> str | None:
    weather = prompts.table(RULES)["weather"]
    words = {k: name for name, w in weather.items() for k in w["keywords"]}
    hit = first_phrase(text, words)
    return words[hit.key] if hit else None


def detect_object(text: str) -> str | None:
    objects = prompts.table(RULES)["objects"]
    words = {k: name for name, o in objects.items() for k in o["keywords"]}
    hit = first_phrase(text, words)
    return words[hit.key] if hit else None


# ---------------------------------------------------------------- cast


@dataclass
class Mention:
    start: int
    role: str | None = None
    name: str | None = None
    gender: str | None = None
    age: tuple[int, int] | None = None
    end: int = 0


_STOP_NAMES = {
    "a", "an", "the", "in", "on", "at", "of", "and", "but", "with", "without", "through", "into", "from", "to",
    "for", "as", "after", "before", "while", "when", "then", "this", "that", "these", "those", "her", "his",
    "their", "she", "he", "they", "it", "we", "i", "my", "our", "your", "one", "two", "three", "cinematic",
    "reel", "video", "film", "short", "scene", "shot", "story", "golden", "blue", "rain", "snow", "fog", "mist",
    "wind", "night", "dawn", "dusk", "morning", "sunset", "sunrise", "light", "sun", "moon", "neon", "smoke",
    "steam", "water", "waves", "leaves", "time", "music", "silence", "love", "life", "everything", "nothing",
    "someone", "everyone", "nobody", "somewhere", "inside", "outside", "under", "over", "across", "along",
    "slowly", "together", "alone", "only", "just", "christmas", "halloween", "easter", "diwali", "holi",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "spring", "summer",
    "autumn", "fall", "winter", "mr", "mrs", "ms", "dr", "st", "saint", "mount", "lake", "river", "street",
}
# Words after which a capitalised word is a person: "a girl named Lily", "meets Kenji".
_NAME_BEFORE = {"named", "called", "meets", "meet", "finds", "joins", "while", "beside", "with"}
_CONJ = re.compile(r"^(?:\s*,\s*|\s+and\s+|\s*&\s*|\s*,\s*and\s+)$")
_APPOSITION = re.compile(r"^\s*,\s*(?:a|an|the|our)\s+(?:[\w'-]+\s+){0,2}$")


def _role_of(word: str, roles: dict, plurals: dict) -> tuple[str | None, bool]:
    """(role key, is plural) for one lowercase word; (None, False) when it is not a person."""
    if word in roles:
        return word, False
    if word in plurals:
        return plurals[word], True  # None for "people": a crowd, not a character
    for suffix in ("es", "s"):
        if word.endswith(suffix) and word[: -len(suffix)] in roles:
            return word[: -len(suffix)], True
    return None, False


def _role_mentions(prompt: str, tokens: list[re.Match], table: dict) -> list[tuple[Mention, list[str]]]:
    """Each person noun as (mention, the roles it brings), skipping repeats of one already found."""
    roles, plurals, groups = table["roles"], table["plurals"], table["groups"]
    numbers, ages = table["number_words"], table["age_words"]
    words = [fold(t.group()).removesuffix("'s") for t in tokens]
    found: list[tuple[Mention, list[str]]] = []
    seen: set[str] = set()
    consumed: set[int] = set()
    for i, word in enumerate(words):
        if i in consumed:
            continue
        nxt = words[i + 1] if i + 1 < len(words) else ""
        last = i
        if f"{word} {nxt}" in roles:  # two-word roles: "street musician", "lighthouse keeper"
            role, plural, last = f"{word} {nxt}", False, i + 1
            consumed.add(i + 1)
        elif word in groups:
            if nxt == "of" and f"{word} of" in numbers:  # "a couple of friends": a count, not a couple
                continue
            role, plural = None, False
        else:
            role, plural = _role_of(word, roles, plurals)
            if role is None:
                continue
        before = words[max(0, i - 3):i]
        count = max([numbers[w] for w in before if w in numbers] or [1])
        if "couple" in before and "of" in before:
            count = 2
        if plural and count == 1:
            count = 2
        age = _age_before(prompt[max(0, tokens[i].start() - 40):tokens[i].start()], before, ages)
        mention = Mention(tokens[i].start(), role=role, age=age, end=tokens[last].end())
        if role is None:  # a group word: couple, family, twins...
            mention.role = groups[word][0]
            found.append((mention, list(groups[word])))
            continue
        if role in seen and count == 1 and not ({"another", "second", "other"} & set(before)):
            continue  # "the fisherman" again: the same person
        seen.add(role)
        found.append((mention, [role] * count))
    return found


def _age_before(text: str, before: list[str], ages: dict) -> tuple[int, int] | None:
    """'a 70-year-old fisherman' or 'an old fisherman'."""
    exact = re.search(r"(\d{1,2})[- ]years?[- ]old\W+(?:[\w-]+\W+){0,2}$", text)
    if exact:
        return int(exact.group(1)), int(exact.group(1))
    return next((tuple(ages[w]) for w in reversed(before) if w in ages), None)


def _name_mentions(prompt: str, tokens: list[re.Match], excluded: list[tuple[int, int]], table: dict) -> list[Mention]:
    """Capitalised words that read as people's names: 'Aiko and Kenji', 'a girl named Lily', 'Maria, an old...'."""
    rules = prompts.table(RULES)
    not_names = set(_STOP_NAMES) | set(table["roles"]) | set(table["plurals"]) | set(table["groups"])
    not_names |= {fold(k) for t in rules["times"].values() for k in t["keywords"]}
    not_names |= {fold(k) for k in rules["places"]} | {fold(k) for k in table["age_words"]}

    def candidate(tok: re.Match) -> bool:
        word = tok.group().removesuffix("'s").removesuffix("\u2019s")
        return (len(word) > 1 and word[0].isupper() and not word.isupper() and fold(word) not in not_names
                and not any(s <= tok.start() < e for s, e in excluded))

    known_names = {fold(n) for genders in table["names"].values() for ns in genders.values() for n in ns}
    cands = [i for i, tok in enumerate(tokens) if candidate(tok)]
    # Names listed together: "Aiko and Kenji", "Aiko, Kenji and Mei".
    listed = {i for a, b in zip(cands, cands[1:]) if _CONJ.match(prompt[tokens[a].end():tokens[b].start()])
              for i in (a, b)}
    names: dict[int, Mention] = {}
    for i in cands:
        tok = tokens[i]
        prev = fold(tokens[i - 1].group()) if i else ""
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        nxt_word = nxt.group() if nxt and not prompt[tok.end():nxt.start()].strip() else ""
        # A capitalised word followed by a verb, not led by an article or another capitalised word
        # ("the Golden Gate glows" is a place, "as Kenji waits" is a person).
        verbish = nxt_word.islower() and ((nxt_word.endswith("s") and not nxt_word.endswith("ss"))
                                          or nxt_word in {"is", "was", "has"})
        lone = prev not in _ARTICLES and not (i and tokens[i - 1].group()[0].isupper() and i - 1 not in cands)
        apposition = re.match(r"^\s*,\s*(?:a|an|the)\s", prompt[tok.end():])
        after_role = _role_of(prev, table["roles"], table["plurals"])[0] is not None  # "her brother Kenji"
        known = fold(tok.group().removesuffix("'s")) in known_names
        if known or prev in _NAME_BEFORE or after_role or i in listed or apposition or (verbish and lone):
            word = tok.group().removesuffix("'s").removesuffix("\u2019s")
            names[tok.start()] = Mention(tok.start(), name=word, end=tok.start() + len(word))
    return list(names.values())


def find_cast(prompt: str) -> list[Mention]:
    """People in the prompt, in order of mention, at most three; empty when there are none."""
    table = prompts.table(CAST)
    tokens = list(_TOKEN.finditer(prompt))
    excluded = [(m.start, m.end) for m in find_phrases(prompt, _all_places())]
    names = _name_mentions(prompt, tokens, excluded, table)
    people: list[Mention] = []
    for mention, group_roles in _role_mentions(prompt, tokens, table):
        # "Maria, an old fisherwoman" is one person; so are "her brother Kenji" and "two friends, Kenji and Mei".
        owner = next((n for n in names if n.role is None and n.end <= mention.start
                      and _APPOSITION.match(prompt[n.end:mention.start])), None)
        owners = [owner] if owner and len(group_roles) == 1 else _names_after(prompt, mention.end, names)
        for n, role in zip(owners, group_roles):
            n.role, n.age = role, mention.age
        for k, role in enumerate(group_roles[len(owners):]):
            people.append(Mention(mention.start + k, role=role, age=mention.age, end=mention.end))
    people = sorted(names + people, key=lambda m: m.start)[: table["max_characters"]]
    _genders_from_pronouns(prompt, people, table)
    return people


def _names_after(prompt: str, start: int, names: list[Mention]) -> list[Mention]:
    """Unassigned names right after a role noun: 'friends Kenji and Mei', 'brother, Kenji'."""
    run: list[Mention] = []
    for n in sorted(names, key=lambda m: m.start):
        if n.start < start:
            continue
        gap = prompt[start:n.start]
        first_gap = re.fullmatch(r"\s*(?:[,:]|named|called)?\s*", gap)
        if n.role is not None or not (first_gap if not run else _CONJ.match(gap)):
            break
        run.append(n)
        start = n.end
    return run


def _all_places() -> list[str]:
    table = prompts.table(LOCALES)
    return [p for groups in table["locales"].values() for places in groups.values() for p in places]


def _genders_from_pronouns(prompt: str, people: list[Mention], table: dict) -> None:
    """'a violinist and her brother': the first pronoun after a person, before the next one, tells."""
    pronouns = {w: g for g, ws in table["gender_pronouns"].items() for w in ws}
    for k, person in enumerate(people):
        stop = people[k + 1].start if k + 1 < len(people) else len(prompt)
        words = [fold(t.group()) for t in _TOKEN.finditer(prompt[person.end:stop])]
        person.gender = next((pronouns[w] for w in words if w in pronouns), None)


# ---------------------------------------------------------------- characters


@dataclass
class Character:
    key: str
    name: str
    gender: str
    age: int
    role: str | None
    kind: str
    garment: str
    head: str  # the portrait's opening phrase, repeated verbatim in every shot
    portrait: str

    def pronoun(self, which: str) -> str:
        return prompts.table(CAST)["pronouns"][self.gender][which]

    @property
    def label(self) -> str:
        """How the logline names them."""
        return f"{self.name} the {self.role}" if self.kind == "profession" else self.name


def _gender_of_name(name: str) -> str | None:
    for genders in prompts.table(CAST)["names"].values():
        for gender, names in genders.items():
            if fold(name) in {fold(n) for n in names}:
                return gender
    return None


def _climate(prompt: str) -> str:
    words = prompts.table(CAST)["climate_words"]
    hit = first_phrase(prompt, [w for ws in words.values() for w in ws])
    if hit is None:
        return "mild"
    return next(c for c, ws in words.items() if hit.key in ws)


def build_characters(prompt: str, seed: int, lang: str) -> list[Character]:
    table = prompts.table(CAST)
    mentions = find_cast(prompt) or [Mention(0, role=None)]
    rng = _rng(prompt, seed, "cast")
    climate = _climate(prompt)
    used_names = {m.name for m in mentions if m.name}
    colours = rng.sample(table["colours"], len(table["colours"]))
    used_families: set[str] = set()
    people: list[Character] = []
    for key, m in zip(KEYS, mentions):
        role = table["roles"].get(m.role or "", {})
        # The noun says most; then a known name; then a pronoun after the mention; then the seed.
        gender = role.get("gender") or (m.name and _gender_of_name(m.name)) or m.gender or rng.choice("fm")
        name = m.name or rng.choice([n for n in table["names"][lang][gender] if n not in used_names])
        used_names.add(name)
        age = rng.randint(*(m.age or role.get("age") or table["default_age"]))
        colour = role.get("colour") or next(c["name"] for c in colours if c["family"] not in used_families)
        used_families.add(next((c["family"] for c in table["colours"] if c["name"] == colour), colour))
        garment = role.get("garment") or rng.choice(table["garments"][climate])
        people.append(_dress(key, name, gender, age, m.role, role, colour, garment, rng, table))
    return _relate(people, table)


def _dress(key, name, gender, age, role_key, role, colour, garment, rng, table) -> Character:
    child = age < table["child_below"]
    if child:
        hair, build = rng.choice(table["hair"]["child"]), rng.choice(table["child_builds"])
    else:
        hair = rng.choice(table["hair"][("old_" if age >= table["old_from"] else "") + gender])
        build = rng.choice(table["builds"])
    noun = table["nouns"][gender]["child" if age < 18 else "adult"]
    if table["child_below"] <= age < 18:
        noun = "teenage " + noun
    kind = role.get("kind", "person")
    role_name = role.get("as", role_key)
    title = f"{name} the {role_name}" if kind == "profession" else name
    head = f"{title} ({age}-year-old {build} {noun}, {colour} {garment}, {hair}, {rng.choice(table['accents'])})"
    sub = table["pronouns"][gender]["sub"]
    # The head runs straight into the first sentence, so its twelfth word never carries a full stop.
    body = [
        f"{head} has {rng.choice(table['skins'])}, {rng.choice(table['faces'])} and {rng.choice(table['details'])}.",
        f"Under the {garment} {sub} wears {_an(rng.choice(table['layers']))}, {rng.choice(table['bottoms'])} "
        f"and {rng.choice(table['shoes'])}.",
        f"{_cap(sub)} moves with {rng.choice(table['gaits'])}.",
    ]
    return Character(key, name, gender, age, role_name, kind, garment, head, " ".join(body))


def _relate(people: list[Character], table: dict) -> list[Character]:
    """Relatives say whose relative they are ('He is Mira's brother.'), after the first sentence."""
    for person in people:
        if person.kind != "relation" or len(people) < 2:
            continue
        others = [p for p in people if p is not person]
        # A mother is the child's mother, a son his parent's son; friends and siblings relate to the lead.
        if person.role in table["relations_to_youngest"]:
            anchor = min(others, key=lambda p: p.age)
        elif person.role in table["relations_to_eldest"]:
            anchor = max(others, key=lambda p: p.age)
        else:
            anchor = others[0]
        first_end = person.portrait.index(". ", len(person.head)) + 1
        line = f" {_cap(person.pronoun('sub'))} is {anchor.name}'s {person.role}."
        person.portrait = person.portrait[:first_end] + line + person.portrait[first_end:]
    return people


# ---------------------------------------------------------------- shots


@dataclass
class _Scene:
    prompt: str
    seed: int
    people: list[Character]
    place: str
    time: str
    weather: str | None
    story_object: str


def _cast(spec: str, people: list[Character]) -> list[Character]:
    return {"all": people, "A": people[:1], "others": people[1:], "AB": people[:2],
            "last": people[-1:], "none": []}[spec]


def _action(key: str, actor: Character, scene: _Scene, cast: list[Character], variant: int) -> tuple[str, str]:
    """(long, short) motion sentence for one character, opening with their head phrase."""
    rules = prompts.table(RULES)
    if key == "object":
        long, short = rules["objects"][scene.story_object]["action"]
    else:
        options = rules["actions"][key]
        pick = variant % len(options["long"])
        long, short = options["long"][pick], options["short"][pick]
    partner = next((c for c in cast if c is not actor), scene.people[0])
    fill = {"sub": actor.pronoun("sub"), "obj": actor.pronoun("obj"), "pos": actor.pronoun("pos"),
            "place": scene.place, "garment": actor.garment, "lead": scene.people[0].name, "partner": partner.name}
    return tuple(f"{actor.head} {t.format(**fill)}." for t in (long, short))  # type: ignore[return-value]


def _insert_sentences(scene: _Scene, rng: random.Random) -> list[str]:
    rules = prompts.table(RULES)
    a_object = rules["objects"][scene.story_object]["a"]
    fill = {"a_object": a_object, "A_object": _cap(a_object), "place": scene.place}
    return [rng.choice(rules["inserts"]).format(**fill), rng.choice(rules["insert_details"]).format(**fill)]


def _boundary(cast: list[Character], scene: _Scene, rng: random.Random) -> str:
    table = prompts.table(RULES)["boundaries"]
    kind = "scene" if not cast else "solo" if len(cast) == 1 else "group"
    names = [c.name for c in cast]
    joined = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    obj = cast[0].pronoun("obj") if cast else ""
    return _cap(rng.choice(table[kind]).format(place=scene.place, names=joined, obj=obj))


def _compose(camera: str, people: list[tuple[str, str]], extras: list[list[str]], fillers: list[str],
             boundary: str, place: str) -> str:
    """Fit the sentences to the word budget: long motions if they fit, then light/ambient, fillers if short."""
    rules = prompts.table(RULES)
    low, high = rules["prompt_words"]
    anchor = rules["lens_anchor"]
    options = [[p[0] for p in people]]
    options += [[p[0] for p in people[:k]] + [p[1] for p in people[k:]] for k in range(len(people) - 1, -1, -1)]
    motions = next((o for o in options if _words(camera, *o, boundary, anchor) <= high), options[-1])
    body = [camera, *motions]
    for alternatives in extras:  # each extra in its longest form that still fits
        fitting = [s for s in alternatives if _words(*body, s, boundary, anchor) <= high]
        body += fitting[:1]
    for sentence in fillers:
        if _words(*body, boundary, anchor) >= low:
            break
        body.append(sentence)
    return _shorten_repeats(" ".join([*body, boundary, anchor]), place)


def _shorten_repeats(text: str, place: str) -> str:
    """Name the full place once; later mentions say just its noun ('the street'), which reads better."""
    full = f"the {place}"
    first = text.find(full)
    if first < 0 or " " not in place or place.split()[-1][0].isupper():  # keep proper names whole
        return text
    cut = first + len(full)
    return text[:cut] + text[cut:].replace(full, f"the {place.split()[-1]}")


def _shot(index: int, slot_name: str, scene: _Scene, previous: list[Character] | None) -> tuple[Shot, list[Character]]:
    rules = prompts.table(RULES)
    slot = rules["slots"][slot_name]
    rng = _rng(scene.prompt, scene.seed, f"shot{index}")
    cast = _cast(slot["cast"], scene.people)
    camera, shot_type = rng.choice(slot["camera"])
    camera = camera.format(place=scene.place)
    actions = slot.get("actions", {})
    base = rng.randrange(2)  # the rest of the cast take the next variants, so no two do the same thing
    people = [_action(actions["first"] if k == 0 else actions["rest"], c, scene, cast, base + k)
              for k, c in enumerate(cast)]
    if not cast:
        people = [(s, s) for s in _insert_sentences(scene, rng)]
    time = rules["times"][scene.time]
    weather = rules["weather"][scene.weather]["ambient"] if scene.weather else None
    extras = [[_cap(time["light"].format(place=scene.place)), time["light_short"]],
              [weather or rng.choice(time["ambient"])]]
    prompt = _compose(camera, people, extras, rules["fillers"], _boundary(cast, scene, rng), scene.place)
    cut = index == 0 or slot["cut"] or not (previous and set(c.key for c in cast) & set(c.key for c in previous))
    dominant = cast[0].key if cast and slot["dominant"] == "first" else SCENE
    return Shot(index=index, is_hero=index == 0, shot_type=shot_type, dominant_subject=dominant,
                cut=cut, prompt=prompt), cast


def shot_slots(n_shots: int, n_people: int) -> list[str]:
    """The arc slot each shot plays, for this many shots and people."""
    rules = prompts.table(RULES)
    size = "solo" if n_people < 2 else "group"
    return [rules["resolve"][s][size] if s in rules["resolve"] else s for s in rules["layouts"][str(n_shots)]]


# ---------------------------------------------------------------- narration, music, logline


def _fits(line: str, lang: str) -> bool:
    if lang in UNSPACED_LANGS:
        return UNSPACED_CHARS[0] <= len(line) <= UNSPACED_CHARS[1]
    return SPACED_WORDS[0] <= len(line.split()) <= SPACED_WORDS[1]


def narration(slots: list[str], people: list[Character], time: str, lang: str, rng: random.Random) -> list[str]:
    """One line per shot in the narration language, each different, from the slot's own templates first."""
    table = prompts.table(NARRATION)
    lines = table["languages"][table["aliases"].get(lang, lang)]
    fill = {"name": people[0].name, "other": people[1].name if len(people) > 1 else people[0].name,
            "when": lines["when"][time]}
    every = [t for ts in lines["lines"].values() for t in ts]
    used: list[str] = []
    for slot in slots:
        own = lines["lines"].get(slot, [])
        pools = [rng.sample(own, len(own)), rng.sample(lines["lines"]["beat"], len(lines["lines"]["beat"])), every]
        for template in (t for pool in pools for t in pool):
            if "{other}" in template and len(people) < 2:
                continue
            line = _cap(template.format(**fill))
            if line not in used and _fits(line, lang):
                used.append(line)
                break
        else:
            raise RuntimeError(f"narration.json has too few lines for {len(slots)} shots in {lang!r}")
    return used


def music_style(prompt: str, time: str, lang: str, rng: random.Random) -> str:
    """Instrumentation, BPM and mood from the prompt's mood words, time of day and setting."""
    rules = prompts.table(RULES)
    music = rules["music"]
    counts = {name: len(find_phrases(prompt, m["keywords"])) for name, m in music["moods"].items()}
    best = max(counts, key=lambda k: counts[k])  # max keeps the first of equals: table order breaks ties
    mood = music["moods"][best if counts[best] else music["mood_by_time"][time]]
    named = first_phrase(prompt, music["instrument_leads"])
    lead = music["instrument_leads"][named.key] if named else rng.choice(mood["lead"])
    bed = rules["times"][time]["music"]["bed"]
    if bed.split()[-1] in lead:
        bed = "warm pad"
    colour = music["regional"].get(lang, mood["colour"])
    if colour.split()[-1] in lead or colour.split()[-1] in bed:
        colour = mood["colour"]
    bpm = max(50, min(140, rng.randint(*mood["bpm"]) + rules["times"][time]["music"]["bpm_shift"]))
    return music["format"].format(lead=lead, bed=bed, colour=colour, bpm=bpm,
                                  mood=rng.choice(mood["mood"]), drums=mood["drums"])


def logline(scene: _Scene, rng: random.Random) -> str:
    rules = prompts.table(RULES)
    when = prompts.table(NARRATION)["languages"]["a"]["when"][scene.time]
    labels = [p.label for p in scene.people] + ["", "", ""]
    template = rng.choice(rules["loglines"][str(min(len(scene.people), 3))])
    return template.format(When=_cap(when), A=labels[0], B=labels[1], C=labels[2], place=scene.place,
                           a_object=rules["objects"][scene.story_object]["a"])


# ---------------------------------------------------------------- the director


class HeuristicDirector:
    """Director backend that needs no model: rules and tables, deterministic per (prompt, n_shots, seed)."""

    name = "heuristic"
    data_files = ('director_rules.json', 'characters.json', 'locales.json', 'narration.json', 'camera_verbs.json')
    model_id = "heuristic-director-v1"

    def load(self) -> None:
        """Nothing to load."""

    def unload(self) -> None:
        """Nothing to free."""

    def plan(self, prompt: str, n_shots: int = 6, seed: int = 0) -> Plan:
        max_shots = prompts.table(RULES)["max_shots"]
        if not isinstance(n_shots, int) or not 1 <= n_shots <= max_shots:
            raise UserError(f"n_shots must be a whole number from 1 to {max_shots}, got {n_shots!r}")
        prompt = " ".join(prompt.split())
        if not prompt:
            raise UserError("the prompt is empty: describe the reel in one sentence")
        locale = detect_locale(prompt)
        people = build_characters(prompt, seed, locale.lang)
        story_object = (detect_object(prompt) or _role_object(people)
                        or _rng(prompt, seed, "object").choice(prompts.table(RULES)["default_objects"]))
        scene = _Scene(prompt, seed, people, detect_place(prompt, locale), time_of_day(prompt),
                       detect_weather(prompt), story_object)
        slots = shot_slots(n_shots, len(people))
        shots, previous = [], None
        for i, slot in enumerate(slots):
            shot, previous = _shot(i, slot, scene, previous)
            shots.append(shot)
        return Plan(
            characters={p.key: p.portrait for p in people},
            story_logline=logline(scene, _rng(prompt, seed, "logline")),
            shots=shots,
            music_style=music_style(prompt, scene.time, locale.lang, _rng(prompt, seed, "music")),
            vo_script_per_shot=narration(slots, people, scene.time, locale.lang, _rng(prompt, seed, "narration")),
            vo_lang=locale.lang,
        )


    def shorten(self, line: str, lang: str, fraction: float, seed: int = 0) -> str:
        return shorter_line(line, lang, fraction)


def _role_object(people: list[Character]) -> str | None:
    roles = prompts.table(CAST)["roles"]
    return next((roles[p.role]["object"] for p in people if p.role in roles and "object" in roles[p.role]), None)
