"""The offline (heuristic) director follows the planning rules for a varied set of prompts."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from models.base import Backend, create
from models.cpu.director import HeuristicDirector, detect_language, find_cast, time_of_day
from reel import camera, prompts
from reel.errors import UserError
from reel.schema import UNSPACED_LANGS, Plan, short_reference

RULES = prompts.table("director_rules.json")
ANCHOR = RULES["lens_anchor"]
LOW, HIGH = RULES["prompt_words"]

LONG_PROMPT = (
    "A slow, reflective reel that begins in Marseille on a windswept morning, where a young painter named "
    "Élise carries her easel down to the old harbour, sets it up beside the fishing boats and tries, again and "
    "again, to catch the colour of the water before the light changes; her friend Julien, who sells coffee "
    "from a tiny cart, keeps bringing her cups she forgets to drink, and their old teacher watches from a "
    "bench with a newspaper he never reads; later the three of them walk up through the narrow streets to "
    "the basilica, talking about Paris, about leaving, about staying, and the painting, unfinished, goes "
    "with them under Élise's arm while gulls wheel overhead and the sea keeps changing its mind."
)

PROMPTS = [
    "30-second cinematic reel: a young woman walks alone through San Francisco at golden hour - down a steep "
    "Pacific Heights street with bay views, fog rolling in over the Pacific, ending at a quiet overlook of the "
    "Golden Gate Bridge as the light shifts to blue hour",
    "Aiko walks alone through neon-lit Tokyo at night and reunites with her two friends Kenji and Mei under an "
    "awning in the rain",
    "a violinist and her brother play on a Paris bridge at dusk",
    "two friends share a last coffee in a Mumbai market at dawn",
    "an old fisherman mends his nets in a Lisbon harbour at sunrise",
    "a rainy street in London at night",
    "Aiko and Kenji meet under the cherry trees in Kyoto at noon",
    "a joyful street festival in Mexico City on a sunny afternoon, a girl dances with her grandmother",
    "a grieving widow walks alone along a Venice canal in the fog at blue hour",
    "three sisters race their bicycles through the hills of Tuscany at golden hour",
    "a lonely astronaut drifts through an abandoned space station",
    "a family eats dinner on a Shanghai rooftop at sunset",
    "a samba dancer spins through the streets of Rio during carnival at midnight",
    "Beijing at dawn: an elderly man practises tai chi in a quiet park",
    "a detective waits in the rain outside a Chicago diner at midnight, neon signs buzzing",
    "Edinburgh in winter: a boy and his grandfather climb the snowy hill at dawn",
    "Taipei night market, a street vendor and a student share noodles",
    "a cellist plays in a Brooklyn subway station at midnight",
    "five old friends, a baker, a poet, a nurse, a pilot and a monk, meet in Madrid",
    LONG_PROMPT,
]

# Languages written in Latin script other than English: their lines must not be English.
ENGLISH_WORDS = {"the", "and", "she", "he", "her", "his", "with", "was", "were", "into", "they", "this",
                 "that", "world", "light", "time", "every", "nothing", "there", "once", "home"}
ALL_PHRASES = sorted(camera.known_phrases(), key=len, reverse=True)


@pytest.fixture(scope="module")
def director() -> HeuristicDirector:
    d = HeuristicDirector()
    d.load()
    return d


@pytest.fixture(scope="module")
def plans(director) -> dict[str, Plan]:
    return {p: director.plan(p) for p in PROMPTS}


def name_of(portrait: str) -> str:
    return re.match(r"[^\s,(.]+", portrait).group()


def normalised(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").replace(".", " ").split())


def shot_problems(plan: Plan) -> list[str]:
    """Every rule a shot prompt breaks, as readable strings (empty when all hold)."""
    problems = []
    refs = {k: short_reference(p) for k, p in plan.characters.items()}
    names = {k: name_of(p) for k, p in plan.characters.items()}
    for shot in plan.shots:
        text, where = shot.prompt, f"shot {shot.index}"
        n = len(text.split())
        if not LOW <= n <= HIGH:
            problems.append(f"{where}: {n} words")
        opening = [p for p in ALL_PHRASES if normalised(text).startswith(p)]
        if not opening:
            problems.append(f"{where}: no known camera phrase first: {text[:40]!r}")
        rest = normalised(text.split(". ", 1)[1]) if ". " in text else ""
        others = [p for p in ALL_PHRASES if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", rest)]
        if others:
            problems.append(f"{where}: second camera phrase {others}")
        if not text.endswith(ANCHOR):
            problems.append(f"{where}: does not end with the lens anchor")
        if "cinematic" in text.lower():
            problems.append(f"{where}: says cinematic")
        if re.search(r"\b[A-Z]{3,}\b", text):
            problems.append(f"{where}: ALL CAPS word")
        if re.search(r"\bexactly\b|\b(two|three|four) (people|persons|figures)\b", text.lower()):
            problems.append(f"{where}: counts people")
        if shot.dominant_subject in refs and refs[shot.dominant_subject] not in text:
            problems.append(f"{where}: lacks the reference of its subject {shot.dominant_subject}")
        for key, name in names.items():
            if re.search(rf"\b{re.escape(name)}\b", text) and refs[key] not in text:
                problems.append(f"{where}: names {name} without the reference")
        for sentence in re.split(r"(?<=[.!?])\s+", text.removesuffix(ANCHOR).strip()):
            if sentence and not sentence[0].isupper():
                problems.append(f"{where}: sentence not in sentence case: {sentence[:30]!r}")
    return problems


def script_of(line: str) -> set[str]:
    scripts = set()
    for ch in line:
        if not ch.isalpha():
            continue
        cp = ord(ch)
        if 0x0900 <= cp <= 0x097F:
            scripts.add("devanagari")
        elif 0x3040 <= cp <= 0x30FF:
            scripts.add("kana")
        elif 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF:
            scripts.add("han")
        elif cp < 0x250:
            scripts.add("latin")
        else:
            scripts.add(f"other:{hex(cp)}")
    return scripts


def narration_problems(plan: Plan) -> list[str]:
    problems = []
    lines = plan.vo_script_per_shot
    if len(set(lines)) != len(lines):
        problems.append("narration repeats a line")
    for i, line in enumerate(lines):
        if plan.vo_lang in UNSPACED_LANGS:
            if not 6 <= len(line) <= 24:
                problems.append(f"line {i}: {len(line)} characters")
        elif not 6 <= len(line.split()) <= 10:
            problems.append(f"line {i}: {len(line.split())} words: {line!r}")
        scripts = script_of(line)
        expected = {"h": {"devanagari"}, "z": {"han"}}.get(plan.vo_lang)
        if plan.vo_lang == "j":
            if "kana" not in scripts or scripts - {"kana", "han"}:
                problems.append(f"line {i} is not Japanese: {line!r}")
        elif expected and scripts != expected:
            problems.append(f"line {i} is not in {expected}: {line!r}")
        elif plan.vo_lang not in {"a", "b", "h", "j", "z"}:
            english = ENGLISH_WORDS & set(re.findall(r"[a-z]+", line.lower()))
            if scripts != {"latin"} or english:
                problems.append(f"line {i} looks English: {line!r}")
    return problems


# ---------------------------------------------------------------- the plan as a whole


def test_backend_contract(director):
    assert isinstance(director, Backend)
    assert director.name == "heuristic" and director.model_id == "heuristic-director-v1"
    assert isinstance(create("director", "cpu"), HeuristicDirector)
    director.unload()


def test_plans_validate_and_follow_the_arc(plans):
    for prompt, plan in plans.items():
        again = Plan.model_validate(json.loads(plan.model_dump_json()))
        assert again == plan
        assert len(plan.shots) == 6 and len(plan.vo_script_per_shot) == 6
        assert 1 <= len(plan.characters) <= 3 and list(plan.characters) == list("ABC")[: len(plan.characters)]
        shots = plan.shots
        assert shots[0].is_hero and shots[0].cut, prompt
        assert not any(s.is_hero for s in shots[1:])
        assert camera.camera_move(shots[4].prompt) == "static" and "close-up" in shots[4].shot_type.lower()
        assert shots[4].dominant_subject == "A" and shots[1].dominant_subject == "A"
        assert shots[5].shot_type.lower().endswith("wide") and shots[0].shot_type.lower().startswith("wide")
        for key, portrait in plan.characters.items():  # the hero and closing wides hold the whole cast
            assert short_reference(portrait) in shots[0].prompt and short_reference(portrait) in shots[5].prompt
        if len(plan.characters) > 1:
            climax = shots[3].prompt
            assert short_reference(plan.characters["A"]) in climax and short_reference(plan.characters["B"]) in climax


def test_every_shot_prompt_follows_the_rules(plans):
    for prompt, plan in plans.items():
        assert shot_problems(plan) == [], prompt


def test_portraits(plans):
    colours = [c["name"] for c in prompts.table("characters.json")["colours"]]
    for prompt, plan in plans.items():
        firsts = []
        for key, portrait in plan.characters.items():
            assert 40 <= len(portrait.split()) <= 60, (prompt, portrait)
            head = portrait.split(")")[0]
            found = sorted((head.find(c), c) for c in colours + ["white", "ochre", "navy blue"] if c in head)
            assert found, f"no garment colour in {head!r}"
            firsts.append(found[0][1])
        assert len(set(firsts)) == len(firsts), f"characters share a main colour: {firsts}"


def test_logline_is_one_sentence(plans):
    for plan in plans.values():
        line = plan.story_logline
        assert line.endswith(".") and ". " not in line and line[0].isupper()


def test_music_style_has_bpm_and_follows_mood(director):
    for prompt in PROMPTS:
        assert re.search(r"\b\d{2,3} BPM\b", director.plan(prompt).music_style)

    def bpm(prompt: str) -> int:
        return int(re.search(r"(\d+) BPM", director.plan(prompt).music_style).group(1))

    happy = "a joyful wedding party dances in a sunny square at noon"
    sad = "a lonely widow says a sad goodbye at a grave at night"
    assert bpm(happy) > bpm(sad)
    assert "no drums" in director.plan(sad).music_style
    assert "violin" in director.plan("a violinist plays on a bridge").music_style


def test_determinism(director):
    for prompt in PROMPTS[:5]:
        assert director.plan(prompt, 6, 7).model_dump_json() == director.plan(prompt, 6, 7).model_dump_json()
    variants = {director.plan(PROMPTS[2], 6, s).model_dump_json() for s in range(5)}
    assert len(variants) > 1


@pytest.mark.parametrize("n", range(1, 13))
def test_any_shot_count_from_1_to_12(director, n):
    for prompt in (PROMPTS[1], PROMPTS[4], PROMPTS[5], LONG_PROMPT):
        plan = director.plan(prompt, n_shots=n, seed=n)
        assert len(plan.shots) == n == len(plan.vo_script_per_shot)
        assert plan.shots[0].is_hero and plan.shots[0].cut
        assert shot_problems(plan) == [], (n, prompt)
        assert narration_problems(plan) == [], (n, prompt)


@pytest.mark.parametrize("n", [0, 13, -1])
def test_shot_count_out_of_range(director, n):
    with pytest.raises(UserError):
        director.plan("a walk in the park", n_shots=n)


# ---------------------------------------------------------------- cast


@pytest.mark.parametrize("prompt, count", [
    ("a rainy street in London at night", 1),
    ("an old fisherman mends his nets", 1),
    ("two friends walk along the beach", 2),
    ("a violinist and her brother", 2),
    ("Aiko and Kenji meet in Kyoto", 2),
    ("a young couple dances in a plaza", 2),
    ("three sisters race their bicycles", 3),
    ("Aiko reunites with her two friends Kenji and Mei", 3),
    ("five old friends, a baker, a poet, a nurse, a pilot and a monk, meet in Madrid", 3),
])
def test_cast_size(director, prompt, count):
    assert len(director.plan(prompt).characters) == count


def test_cast_details(director):
    aiko = director.plan("Aiko reunites with her two friends Kenji and Mei in Tokyo").characters
    assert [name_of(p) for p in aiko.values()] == ["Aiko", "Kenji", "Mei"]
    violin = director.plan("a violinist and her brother play on a Paris bridge").characters
    assert "violinist" in short_reference(violin["A"]) and " woman," in violin["A"]
    assert "brother" in violin["B"] and " man," in violin["B"]
    old = director.plan("an old fisherman mends his nets").characters["A"]
    assert int(re.search(r"(\d+)-year-old", old).group(1)) >= 60 and "fisherman" in old
    maria = find_cast("Maria, an old fisherwoman, waits on the pier")
    assert [(m.name, m.role) for m in maria] == [("Maria", "fisherwoman")]
    lily = find_cast("a girl named Lily and her grandmother bake bread")
    assert [(m.name, m.role) for m in lily] == [("Lily", "girl"), (None, "grandmother")]
    assert find_cast("the Golden Gate glows at dusk") == []


# ---------------------------------------------------------------- language and time


CITY_LANGS = [
    ("a walk through New York", "a"), ("a morning in San Francisco", "a"), ("rain over Chicago", "a"),
    ("a pub in London", "b"), ("Edinburgh at dawn", "b"), ("a rainy Manchester street", "b"), ("Dublin docks", "b"),
    ("a plaza in Madrid", "e"), ("Barcelona beach", "e"), ("dusk in Seville", "e"), ("Mexico City traffic", "e"),
    ("tango in Buenos Aires", "e"), ("a cafe in Bogotá", "e"), ("Lima at noon", "e"),
    ("a bridge in Paris", "f"), ("Lyon at night", "f"), ("snow in Montréal", "f"), ("Old Quebec", "f"),
    ("Geneva lakeside", "f"), ("Marseille harbour", "f"),
    ("a Mumbai market", "h"), ("the ghats of Varanasi", "h"), ("Old Delhi lanes", "h"), ("Jaipur palace", "h"),
    ("a piazza in Rome", "i"), ("Florence at dusk", "i"), ("Naples alley", "i"), ("a Venice canal", "i"),
    ("Sicily coast", "i"), ("a café in Milan", "i"),
    ("neon Tokyo", "j"), ("a temple in Kyoto", "j"), ("Osaka street food", "j"), ("snow in Hokkaido", "j"),
    ("carnival in Rio", "p"), ("São Paulo rooftops", "p"), ("Sao Paulo traffic", "p"), ("Salvador streets", "p"),
    ("trams of Lisbon", "p"), ("a beach in Brazil", "p"),
    ("a hutong in Beijing", "z"), ("the Bund in Shanghai", "z"), ("Taipei night market", "z"),
    ("teahouse in Chengdu", "z"), ("Hong Kong harbour", "z"),
]


@pytest.mark.parametrize("prompt, lang", CITY_LANGS)
def test_vo_lang_from_setting(prompt, lang):
    assert detect_language(prompt) == lang


def test_every_language_has_two_cities():
    """Every narration language in the locale table is detected from at least two of the cities above."""
    covered = Counter(detect_language(prompt) for prompt, _ in CITY_LANGS)
    languages = prompts.table("locales.json")["languages"]
    assert all(covered[code] >= 2 for code in languages), {code: covered[code] for code in languages}


@pytest.mark.parametrize("prompt, lang", [
    ("from Paris to Tokyo by night train", "f"),  # first mentioned wins
    ("a flight from Tokyo to Paris", "j"),
    ("NEW YORK in the snow", "a"),  # not York
    ("TOKYO drift", "j"),  # case-insensitive
    ("Romeo waits on a balcony", "a"),  # whole words only: Romeo is not Rome
    ("a walk on the moon", "a"),  # default
    ("Mexico City murals", "e"),
    ("a bakery in Cordoba", "e"),
])
def test_vo_lang_matching_rules(prompt, lang):
    assert detect_language(prompt) == lang


def test_language_table_is_complete():
    table = prompts.table("locales.json")
    voices = {"a": "af_heart", "b": "bf_emma", "e": "ef_dora", "f": "ff_siwis", "h": "hf_alpha", "i": "if_sara",
              "j": "jf_alpha", "p": "pf_dora", "z": "zf_xiaobei"}
    espeak = {"a": "en-us", "b": "en-gb", "e": "es", "f": "fr", "h": "hi", "i": "it", "j": "ja", "p": "pt-br",
              "z": "cmn"}
    assert {k: v["kokoro_voice"] for k, v in table["languages"].items()} == voices
    assert {k: v["espeak"] for k, v in table["languages"].items()} == espeak
    # Every voice is reachable from some place: a country's official language or a deliberate choice.
    assert set(table["by_language"].values()) | set(table["deliberate"].values()) == set(voices)


@pytest.mark.parametrize("prompt, time", [
    ("a walk at dawn", "dawn"), ("coffee at midnight", "midnight"), ("a neon-lit street at dusk", "dusk"),
    ("a neon alley", "night"), ("a quiet park", "golden hour"), ("golden hour turning to blue hour", "golden hour"),
    ("a picnic at noon", "noon"), ("a long afternoon", "afternoon"), ("sunset on the pier", "sunset"),
    ("late into the night", "night"), ("an early morning run", "dawn"), ("Sunday morning", "morning"),
])
def test_time_of_day(prompt, time):
    assert time_of_day(prompt) == time


# ---------------------------------------------------------------- narration


def test_narration_lines(plans):
    seen_langs = set()
    for prompt, plan in plans.items():
        seen_langs.add(plan.vo_lang)
        assert narration_problems(plan) == [], prompt
    assert seen_langs == set("abefhijpz")


@pytest.mark.parametrize("city, lang", [("Tokyo", "j"), ("Mumbai", "h"), ("Shanghai", "z"), ("Paris", "f"),
                                        ("Madrid", "e"), ("Rome", "i"), ("Rio", "p"), ("London", "b")])
def test_narration_is_native_for_any_cast(director, city, lang):
    for who in ("a woman", "two friends", "Aiko and Kenji and Mei", "nobody at all"):
        for seed in range(3):
            plan = director.plan(f"{who} in {city} at dusk", n_shots=6, seed=seed)
            assert plan.vo_lang == lang
            assert narration_problems(plan) == [], (who, city, seed, plan.vo_script_per_shot)


def test_narration_templates_fit_their_language():
    """Every template is written in its own language: the script check over the whole data file."""
    table = prompts.table("narration.json")
    for lang, data in table["languages"].items():
        for when in data["when"].values():
            if lang in {"h", "j", "z"}:
                assert "latin" not in script_of(when)
        for slot, templates in data["lines"].items():
            assert len(set(templates)) == len(templates), (lang, slot)
            for template in templates:
                if lang in {"h", "j", "z"}:
                    assert "{name}" not in template and "{other}" not in template, (lang, template)
    assert set(table["languages"]) | set(table["aliases"]) == set("abefhijpz")


def test_wardrobe_colours_are_ones_the_animatic_can_paint():
    """The preview renderer dresses figures in the first colour word of their portrait."""
    try:
        painter = prompts.table("animatic.json")["colours"]
    except FileNotFoundError:
        pytest.skip("no animatic colour table in this checkout")
    cast = prompts.table("characters.json")
    wanted = {c["name"] for c in cast["colours"]} | {r["colour"] for r in cast["roles"].values() if "colour" in r}
    assert wanted <= set(painter), wanted - set(painter)
