"""A character's look (colours, hair, build), read from their bible portrait alone.

So one character looks the same in every master and keyframe, without pasting pixels around.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .common import RGB, shade, stable_int, table


@dataclass(frozen=True)
class Look:
    key: str
    name: str
    main: RGB
    secondary: RGB
    legs: RGB
    shoes: RGB
    hair: RGB
    skin: RGB
    hat: RGB | None = None
    scarf: RGB | None = None
    hair_style: str = "short"
    beard: bool = False
    glasses: bool = False
    dress: bool = False
    height: float = 0.95
    width: float = 1.0
    work: frozenset[str] = frozenset()  # work dress drawn: veil, one_colour, apron, helmet, cap
    apron: RGB | None = None
    named: dict[str, str] = field(default_factory=dict, compare=False)  # part -> colour word, for the sheet


_STOP = {",", ".", ";", ":", "and", "over", "with", "under", "beneath", "plus", "or"}


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-zà-ÿ][a-zà-ÿ'-]*|[,.;:]", text.lower())


def _colour_mentions(tokens: list[str]) -> list[tuple[str, str]]:
    """(colour word, slot) in reading order; slot is hair/legs/shoes/hat/scarf/ignore/garment."""
    t = table()
    colours, slots = t["colours"], t["slots"]
    slot_of = {w: s for s, words in slots.items() for w in words}
    found: list[tuple[int, int, str]] = []  # (start, end, colour word)
    i = 0
    while i < len(tokens):
        for n in (3, 2, 1):  # longest colour phrase wins ("navy blue" over "navy")
            phrase = " ".join(tokens[i:i + n])
            if phrase in colours:
                found.append((i, i + n, phrase))
                i += n
                break
        else:
            i += 1
    out = []
    for k, (start, end, word) in enumerate(found):
        nxt = found[k + 1][0] if k + 1 < len(found) else len(tokens)
        slot = "garment"
        # The colour describes the noun that follows it, up to the next colour or clause break.
        for tok in tokens[end:min(nxt, end + 4)]:
            if tok in _STOP:
                break
            if tok in slot_of:
                slot = slot_of[tok]
                break
        if slot == "garment" and word in t["hair_only_colours"]:
            slot = "hair"
        out.append((word, slot))
    return out


def _hair_style(text: str, tokens: list[str]) -> str:
    styles = table()["hair_styles"]
    if any(re.search(rf"\b{re.escape(w)}\b", text) for w in styles["bald"]):
        return "bald"
    hair_words = set(table()["slots"]["hair"])
    clauses = " ".join(tokens).replace(".", ",").replace(";", ",").split(",")
    hair_clauses = " ".join(c for c in clauses if hair_words & set(c.split()))
    for style in ("bun", "long", "curly"):
        if any(re.search(rf"\b{re.escape(w)}\b", hair_clauses) for w in styles[style]):
            return style
    return "short"


def _character_name(key: str, portrait: str) -> str:
    """The name a portrait opens with: "Mara (", "Mara,", "Jesse the fisherman (", or "... named Mara"."""
    m = (re.match(r"\s*([A-Z][\w'-]+)(?:\s+the\s+[a-z][\w' -]*?)?\s*[,(]", portrait)
         or re.search(r"\b(?:named|called)\s+([A-Z][\w'-]+)", portrait))
    return m[1] if m and m[1] not in {"A", "An", "The"} else key


def growth(age: int) -> float:
    """A child's height as a share of the adult figure's: about 75 cm at one, 6 cm a year on, 170 cm grown."""
    g = table()["growth"]
    return max(0.3, min(1.0, (g["cm_at_one"] + g["cm_per_year"] * (age - 1)) / g["adult_cm"])) * 0.95


def look_of(key: str, portrait: str, age: int | None = None) -> Look:
    """Everything about a character's drawing, derived from the portrait text (and the scene's age)."""
    if age is None:
        said = re.search(r"(\d+)-year-old", portrait)
        age = int(said.group(1)) if said else None
    t = table()
    text = portrait.lower()
    tokens = _tokens(portrait)
    h = stable_int(key, portrait)
    colours = t["colours"]
    parts: dict[str, str] = {}
    garments: list[str] = []
    for word, slot in _colour_mentions(tokens):
        if slot == "garment":
            garments.append(word)
        elif slot != "ignore":
            parts.setdefault(slot, word)
    if garments:
        parts["main"] = garments[0]
    if len(garments) > 1:
        parts["secondary"] = garments[1]
    c = {part: tuple(colours[word]) for part, word in parts.items()}
    main = c.get("main") or tuple(colours[sorted(colours)[h % len(colours)]])
    skin_words = sorted(t["skin"], key=len, reverse=True)  # "olive skin" before "olive"
    skin_word = next((k for k in skin_words if re.search(rf"\b{re.escape(k)}\b", text)), None)
    skin = tuple(t["skin"][skin_word]) if skin_word else tuple(t["default_skins"][h % len(t["default_skins"])])
    build = t["build"]
    height = min((v for w, v in build["height"].items() if w in tokens), default=0.95)  # "tall girl" is a child
    width = next((v for w, v in build["width"].items() if w in tokens), 1.0)
    dress = any(re.search(rf"\b{re.escape(w)}\b", text) for w in t["dress_words"])
    head = text.split(")", 1)[0]  # the garment as the portrait's head says it
    work = frozenset(k for k, words in t["work_garments"].items()
                     if any(re.search(rf"\b{re.escape(w)}\b", head) for w in words))
    said = [w for w, slot in _colour_mentions(_tokens(head)) if slot != "ignore"]
    if work & {"one_colour", "apron"} and said:
        # 'navy blue work overalls', 'cream work apron': the head's colour is the garment's (and the sheet says so)
        c["main"], parts["main"] = tuple(colours[said[0]]), said[0]
    main = c.get("main") or main
    if "one_colour" in work:
        c["legs"] = main
        parts["legs"] = parts.get("main", parts.get("legs", ""))
    apron = None
    if "apron" in work:  # the apron in the garment's colour over a shirt in the next one
        apron, main = main, c.get("secondary") or shade(main, 0.55)
    if age is not None and age < 18:  # a child is drawn smaller, by age (the scene's, else the portrait's)
        height = min(height, growth(age))
    return Look(
        key=key,
        name=_character_name(key, portrait),
        main=main,
        secondary=c.get("secondary") or shade(main, 0.7),
        legs=c.get("legs") or c.get("secondary") or (54, 58, 70),
        shoes=c.get("shoes") or (40, 34, 32),
        hair=c.get("hair") or tuple(t["default_hairs"][(h >> 8) % len(t["default_hairs"])]),
        skin=skin,
        hat=c.get("hat"),
        scarf=c.get("scarf"),
        hair_style=_hair_style(text, tokens),
        beard=any(w in tokens for w in t["beard_words"]),
        glasses=any(w in tokens for w in ("glasses", "spectacles", "sunglasses")),
        dress=dress,
        height=height,
        width=width,
        work=work,
        apron=apron,
        named=parts,
    )

