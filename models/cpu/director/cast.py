"""The cast: people the prompt names or implies (at most three), and their portraits.

A portrait opens with a head phrase repeated verbatim in every shot the character appears in;
the tables (roles, names per language, wardrobe) live in prompts/characters.json. A place name
never becomes a character: spans the gazetteer recognises are excluded before names are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reel import prompts

from . import ages
from .names import gender_of
from .places import find_places
from .setting import ARTICLES
from .text import CAST, RULES, TOKEN, an, cap, first_phrase, fold, rng_for

KEYS = "ABC"



@dataclass
class Mention:
    start: int
    role: str | None = None
    name: str | None = None
    gender: str | None = None
    age: tuple[int, int] | None = None
    end: int = 0
    group: str | None = None  # the group word that brought them: 'couple', 'twins', 'family'


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
    numbers = table["number_words"]
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
        age = ages.said_before(prompt[max(0, tokens[i].start() - 40):tokens[i].start()], before) or \
            ages.said_after(prompt[tokens[last].end():])
        own = roles[role].get("age") if role in roles else None
        if age and own and own[1] < table["child_below"] <= age[0]:
            age = None  # 'a young boy': the boy's own age, 'young' says no more
        if age is None and count > 1 and role in table["young_when_several"] and not found:
            age = tuple(table["roles"]["child"]["age"])  # 'two brothers race paper boats': children
        mention = Mention(tokens[i].start(), role=role, age=age, end=tokens[last].end())
        if role is None:  # a group word: couple, family, twins...
            mention.role, mention.group = groups[word][0], word
            found.append((mention, list(groups[word])))
            continue
        if role in seen and count == 1 and not ({"another", "second", "other"} & set(before)):
            continue  # "the fisherman" again: the same person
        seen.add(role)
        found.append((mention, [role] * count))
    return found


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
        lone = prev not in ARTICLES and not (i and tokens[i - 1].group()[0].isupper() and i - 1 not in cands)
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
    tokens = list(TOKEN.finditer(prompt))
    excluded = [(m.start, m.end) for m, _ in find_places(prompt)]
    names = _name_mentions(prompt, tokens, excluded, table)
    people: list[Mention] = []
    for mention, group_roles in _role_mentions(prompt, tokens, table):
        # "Maria, an old fisherwoman" is one person; so are "her brother Kenji" and "two friends, Kenji and Mei".
        owner = next((n for n in names if n.role is None and n.end <= mention.start
                      and _APPOSITION.match(prompt[n.end:mention.start])), None)
        owners = [owner] if owner and len(group_roles) == 1 else _names_after(prompt, mention.end, names)
        for n, role in zip(owners, group_roles):
            n.role, n.age, n.group = role, mention.age, mention.group
        for k, role in enumerate(group_roles[len(owners):]):
            people.append(Mention(mention.start + k, role=role, age=mention.age, end=mention.end, group=mention.group))
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



def _genders_from_pronouns(prompt: str, people: list[Mention], table: dict) -> None:
    """'a violinist and her brother': the first pronoun after a person, before the next one, tells."""
    pronouns = {w: g for g, ws in table["gender_pronouns"].items() for w in ws}
    for k, person in enumerate(people):
        stop = people[k + 1].start if k + 1 < len(people) else len(prompt)
        words = [fold(t.group()) for t in TOKEN.finditer(prompt[person.end:stop])]
        person.gender = next((pronouns[w] for w in words if w in pronouns), None)


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
    group: str | None = None  # the group word of the prompt they belong to ('couple')

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


def build_characters(prompt: str, seed: int, lang: str, mentions: list[Mention] | None = None) -> list[Character]:
    table = prompts.table(CAST)
    mentions = (find_cast(prompt) if mentions is None else mentions) or [Mention(0, role=None)]
    rng = rng_for(prompt, seed, "cast")
    climate = _climate(prompt)
    used_names = {m.name for m in mentions if m.name}
    colours = rng.sample(table["colours"], len(table["colours"]))
    used_families: set[str] = set()
    people: list[Character] = []
    for key, m in zip(KEYS, mentions):
        # A role no table lists ('beekeeper', 'delivery rider') is a trade, carried as the prompt says it.
        role = table["roles"].get(m.role or "") or ({"kind": "profession", **_suffix_role(m.role)} if m.role else {})
        if m.role and not role.get("garment"):
            role = {**role, **work_dress(m.role)}
        # The noun says most; then a known name; then a pronoun after the mention; then the seed.
        gender = (role.get("gender") or (m.name and _gender_of_name(m.name)) or m.gender
                  or (m.name and gender_of(m.name)) or rng.choice("fm"))
        name = m.name or rng.choice([n for n in table["names"][lang][gender] if n not in used_names])
        used_names.add(name)
        age = rng.randint(*(m.age or role.get("age") or table["default_age"]))
        colour = role.get("colour") or next(c["name"] for c in colours if c["family"] not in used_families)
        used_families.add(next((c["family"] for c in table["colours"] if c["name"] == colour), colour))
        garment = role.get("garment") or rng.choice(table["garments"][climate])
        people.append(_dress(key, name, gender, age, m.role, role, colour, garment, rng, table))
        people[-1].group = m.group
    return _grouped(_relate(_said_roles(people, table), table))


def _dress(key, name, gender, age, role_key, role, colour, garment, rng, table) -> Character:
    child = age < table["child_below"]
    if child:
        hair, build = rng.choice(table["hair"]["child"]), rng.choice(table["child_builds"])
    else:
        hair = rng.choice(table["hair"][("old_" if age >= table["old_from"] else "") + gender])
        build = rng.choice(table["builds"])
    noun = table["nouns"][gender]["child" if age < 18 else "adult"]
    if kind_says_age(role):  # 'a kid', 'a child': the prompt's own word, not boy or girl
        noun = role_key
    elif table["child_below"] <= age < 18:
        noun = "teenage " + noun
    kind = role.get("kind", "person")
    role_name = role.get("as", role_key)
    title = f"{name} the {role_name}" if kind == "profession" else name
    head = f"{title} ({age}-year-old {build} {noun}, {colour} {garment}, {hair}, {rng.choice(table['accents'])})"
    sub = table["pronouns"][gender]["sub"]
    # The head runs straight into the first sentence, so its twelfth word never carries a full stop.
    body = [
        f"{head} has {rng.choice(table['skins'])}, {rng.choice(table['faces'])} and {rng.choice(table['details'])}.",
        f"Under the {garment} {sub} wears {an(rng.choice(table['layers']))}, {rng.choice(table['bottoms'])} "
        f"and {rng.choice(table['shoes'])}.",
        f"{cap(sub)} moves with {rng.choice(table['gaits'])}.",
    ]
    return Character(key, name, gender, age, role_name, kind, garment, head, " ".join(body))


def kind_says_age(role: dict) -> bool:
    """A person word that says an age and no gender ('kid', 'child', 'teenager')."""
    return role.get("kind") == "person" and "age" in role and "gender" not in role


def _suffix_role(word: str) -> dict:
    """The gender and age a trade's last part says ('schoolgirl', 'fisherwoman', 'postman'): the
    longest person word the table lists that ends it, after at least three letters of its own."""
    roles = prompts.table(CAST)["roles"]
    ends = [k for k, r in roles.items() if r.get("kind") == "person" and " " not in k and word.endswith(k)
            and len(word) - len(k) >= 3 and " " not in word]
    if not ends:
        return {}
    found = roles[max(ends, key=len)]
    return {k: found[k] for k in ("gender", "age") if k in found}


def work_dress(role: str) -> dict:
    """{garment, colour} of the coarse class a trade belongs to ('beekeeper': veil, 'welder': overalls,
    'blacksmith': apron by its ending); {} for a role in none."""
    last = role.split()[-1].lower()
    for dress in prompts.table(CAST)["work_dress"]["classes"].values():
        if last in dress["roles"] or any(last.endswith(e) and len(last) > len(e) + 2 for e in dress["ends"]):
            return {"garment": dress["garment"], "colour": dress["colour"]}
    return {}


def _after_first_sentence(person: Character, line: str) -> None:
    """A line put after the portrait's first sentence (the head runs into it, so never inside it)."""
    first_end = person.portrait.index(". ", len(person.head)) + 1
    person.portrait = f"{person.portrait[:first_end]} {line}{person.portrait[first_end:]}"


def _said_roles(people: list[Character], table: dict) -> list[Character]:
    """A person word the portrait's noun does not say is said after it ('a widow' is drawn as a
    woman of her age: 'She is a widow.'); a trade is in the title, a relative in _relate."""
    plain = {n for forms in table["nouns"].values() for n in forms.values()} | {"person"}
    for person in people:
        if person.kind == "person" and person.role and person.role not in plain and person.role not in person.head:
            _after_first_sentence(person, f"{cap(person.pronoun('sub'))} is {an(person.role)}.")
    return people


def _grouped(people: list[Character]) -> list[Character]:
    """Members of a group the prompt names say so ('She and Tommaso are a couple.'), after the first
    sentence: the group word reaches the portraits."""
    for person in people:
        others = [p.name for p in people if p is not person and p.group == person.group]
        if not person.group or not others or person.kind == "relation":
            continue  # a relative already says whose ('He is June's twin.')
        names = ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + others[-1]
        what = person.group if person.group.endswith("s") else an(person.group)
        _after_first_sentence(person, f"{cap(person.pronoun('sub'))} and {names} are {what}.")
    return people


def _relate(people: list[Character], table: dict) -> list[Character]:
    """Relatives say whose relative they are ('He is Mira's brother.'), after the first sentence."""
    for person in people:
        if person.kind == "relation" and len(people) < 2:  # 'a grandmother rolls out dough': she is one
            _after_first_sentence(person, f"{cap(person.pronoun('sub'))} is {an(person.role)}.")
            continue
        if person.kind != "relation":
            continue
        others = [p for p in people if p is not person]
        # A mother is the child's mother, a son his parent's son; friends and siblings relate to the lead.
        if person.role in table["relations_to_youngest"]:
            anchor = min(others, key=lambda p: p.age)
        elif person.role in table["relations_to_eldest"]:
            anchor = max(others, key=lambda p: p.age)
        else:
            anchor = others[0]
        _after_first_sentence(person, f"{cap(person.pronoun('sub'))} is {anchor.name}'s {person.role}.")
    return people

