"""The reel shows what was asked: fidelity tables for the offline director and the animatic painter.

Each row is a prompt and what its plan (or its frames' scene description) must contain. The tests
print the pass count per field and fail under a stated bar, so a regression in one field shows
as a number, not a single red row.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest

from models.cpu.director import HeuristicDirector
from models.cpu.director.places import find_places
from models.cpu.director.setting import detect_weather, time_of_day
from models.cpu.painter import describe
from reel.errors import UserError
from reel.ids import half as split_half
from reel.schema import Plan

# prompt, then what the plan must contain: lang (vo_lang), place (setting noun in a shot prompt),
# city (English name in a shot prompt), time, weather, things (each word in some shot prompt),
# action (words of the lead's action in a shot prompt), who (a role in the portraits).
DIRECTOR_TABLE = [
    ("an old fisherman mends his nets on a windy pier in Lisbon at dawn while gulls circle",
     dict(lang="p", place="pier", city="Lisbon", time="dawn", weather="wind", things=["net", "gull"], action="mends",
          who="fisherman")),
    ("a courier cycles across Rotterdam bridges in the rain",
     dict(lang="a", place="bridge", city="Rotterdam", weather="rain", things=["bicycle"], action="bicycle",
          who="courier")),
    ("a night-shift nurse walks home through an empty Glasgow street as the first tram passes at dawn",
     dict(lang="b", place="street", city="Glasgow", time="dawn", things=["tram"], action="walks home", who="nurse")),
    ("a street vendor sells noodles in a Seoul market at midnight",
     dict(lang="a", place="market", city="Seoul", time="midnight", things=["bowl"], action="sells", who="vendor")),
    ("a girl flies a red kite on a Nairobi hill in the wind",
     dict(lang="a", city="Nairobi", weather="wind", things=["kite"], action="flies", who="girl")),
    ("a jazz trumpeter plays on a New Orleans rooftop at sunset",
     dict(lang="a", place="rooftop", city="New Orleans", time="sunset", things=["trumpet"], action="plays")),
    ("a baker pulls fresh bread from the oven in a Paris kitchen at dawn",
     dict(lang="f", place="kitchen", city="Paris", time="dawn", things=["bread"], action="pulls", who="baker")),
    ("snow falls as an old woman feeds pigeons in a Kyoto park",
     dict(lang="j", place="park", city="Kyoto", weather="snow", things=["pigeon"], action="feeds")),
    ("a violinist plays on a foggy Venice canal at dusk",
     dict(lang="i", place="canal", city="Venice", time="dusk", weather="fog", things=["violin"], who="violinist")),
    ("a carpenter sands a chair in a quiet Mumbai workshop in the afternoon",
     dict(lang="h", place="workshop", city="Mumbai", time="afternoon", action="sands", who="carpenter")),
    ("two friends drink tea in a Shanghai cafe on a rainy morning",
     dict(lang="z", place="cafe", city="Shanghai", time="morning", weather="rain", things=["tea"],
          action="drinks tea")),
    ("a surfer carries her surfboard along a Rio beach at golden hour",
     dict(lang="p", place="beach", time="golden hour", things=["surfboard"], action="carries", who="surfer")),
    ("a cat sleeps on a sunny windowsill in a Madrid apartment at noon",
     dict(lang="e", place="apartment", city="Madrid", time="noon", things=["cat"])),
    ("a painter paints the harbour of Marseille at sunrise while boats rock",
     dict(lang="f", place="harbour", city="Marseille", time="dawn", things=["boat"], action="paints", who="painter")),
    ("an old fisherman and his granddaughter haul nets at dawn in a Norwegian fjord",
     dict(lang="a", place="fjord", time="dawn", things=["net"], action="hauls nets", who="fisherman")),
    ("two old men play chess in a Kyoto teahouse",
     dict(lang="j", place="teahouse", city="Kyoto", action="plays chess")),
    ("a lighthouse keeper climbs the stairs during a storm at night",
     dict(lang="a", place="stair", time="night", action="climbs the stairs", who="lighthouse keeper")),
    ("a jogger runs across the Golden Gate Bridge in the fog",
     dict(lang="a", place="Golden Gate Bridge", weather="fog", action="runs across the Golden Gate Bridge",
          who="jogger")),
    ("a firefighter rescues a cat from a tree in a Chicago neighborhood",
     dict(lang="a", city="Chicago", things=["cat"], action="rescues a cat", who="firefighter")),
    ("a chef flips pancakes in a busy Tokyo diner at breakfast",
     dict(lang="j", place="diner", city="Tokyo", action="flips pancakes", who="chef")),
    ("a mother and her son walk along the beach at dusk",
     dict(lang="a", place="beach", time="dusk", action="walks along the beach", who="mother")),
    ("an old man and his dog watch the boats in the harbour at noon",
     dict(lang="a", place="harbour", time="noon", things=["dog", "boat"], action="watches the boats")),
    ("a climber climbs a snowy mountain at dawn",
     dict(lang="a", place="mountain", time="dawn", weather="snow", action="climbs")),
    ("a lonely rider crosses the Atacama desert at noon on a horse",
     dict(lang="e", place="desert", time="noon", things=["horse"], action="crosses")),
    ("a dog waits by the Thames at blue hour",
     dict(lang="b", time="blue hour", things=["dog"])),
    ("a photographer walks through a misty forest in Hokkaido with a camera",
     dict(lang="j", place="forest", weather="fog", things=["camera"], action="walks", who="photographer")),
    ("an accordion player sings in a Buenos Aires plaza on a windy evening",
     dict(lang="e", place="plaza", city="Buenos Aires", time="dusk", weather="wind", things=["accordion"])),
    ("a boy reads a book under cherry blossoms in Tokyo at noon",
     dict(lang="j", city="Tokyo", time="noon", things=["book", "blossom"], action="reads", who="boy")),
    ("a potter shapes a bowl in a small studio in Oaxaca at night",
     dict(lang="e", place="studio", city="Oaxaca", time="night", things=["bowl"], action="shapes")),
    ("a grandmother and her grandson fly a kite on a Brighton beach at sunset",
     dict(lang="b", place="beach", city="Brighton", time="sunset", things=["kite"])),
    ("Nairobi at night: a taxi driver waits in the rain",
     dict(lang="a", city="Nairobi", time="night", weather="rain", who="driver")),
    # the other narration languages, written in them
    ("東京の夜、雨の中で猫が路地を歩く",
     dict(lang="j", place="alley", city="Tokyo", time="night", weather="rain", things=["cat"])),
    ("北京的清晨，一位老人在公园里散步，下着雪",
     dict(lang="z", place="park", city="Beijing", time="dawn", weather="snow")),
    ("वाराणसी में सुबह एक मछुआरा नाव पर जाल सिलता है",
     dict(lang="h", city="Varanasi", time="morning", things=["boat", "net"], who="fisherman")),
    ("Un viejo pescador remienda sus redes en el muelle de Valparaíso al amanecer",
     dict(lang="e", place="pier", city="Valparaíso", time="dawn", things=["net"], action="mends", who="fisherman")),
    ("Une jeune femme pédale sur un vélo sous la pluie à Lyon la nuit",
     dict(lang="f", city="Lyon", time="night", weather="rain", things=["bicycle"])),
    ("Un violinista suona sul ponte di Firenze al tramonto",
     dict(lang="i", place="bridge", city="Florence", time="sunset", things=["violin"], who="violinist")),
    ("Uma menina empina pipa na praia de Salvador ao pôr do sol com vento",
     dict(lang="p", place="beach", city="Salvador", time="sunset", weather="wind", things=["kite"], who="girl")),
    ("Un chat dort dans une ruelle de Montréal sous la neige au matin",
     dict(lang="f", place="alley", city="Montréal", time="morning", weather="snow", things=["cat"])),
    ("Una bailarina baila en una plaza de Sevilla por la noche",
     dict(lang="e", place="plaza", city="Sevilla", time="night", who="dancer")),
]

BAR = 0.9  # share of rows each field must pass


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    director = HeuristicDirector()
    return {prompt: director.plan(prompt) for prompt, _ in DIRECTOR_TABLE}


def _said(text: str, word: str) -> bool:
    """A word (or its plural or third person: boats, boxes, leaves, knives, flies) said in the text,
    whole-word, any case."""
    word = word.lower()
    forms = [rf"{re.escape(word)}(?:e?s)?"] + [re.escape(re.sub(r"fe?$", "ves", word))] * bool(re.search(r"fe?$", word))
    forms += [re.escape(word[:-1] + "ies")] * bool(re.search(r"[^aeiou]y$", word))
    return re.search(rf"(?<!\w)(?:{'|'.join(forms)})(?!\w)", text.lower()) is not None


def _checks(plan: Plan, want: dict) -> dict[str, bool]:
    shots = [s.prompt for s in plan.shots]
    every = " ".join(shots)
    names = [re.match(r"[^\s,(.]+", p).group() for p in plan.characters.values()]
    insert = [s.prompt for s in plan.shots if s.dominant_subject == "scene" and "insert" in s.shot_type.lower()]
    got = {"lang": plan.vo_lang == want["lang"]}
    if "place" in want:
        got["place"] = _said(every, want["place"])
    if "city" in want:
        got["city"] = want["city"] in every
        got["place is no character"] = not any(n in want["city"] for n in names)
    if "time" in want:
        got["time"] = time_of_day(every) == want["time"]
    if "weather" in want:
        got["weather"] = detect_weather(every) == want["weather"]
    for thing in want.get("things", []):
        got["things"] = got.get("things", True) and _said(every, thing)
    if insert and want.get("things"):
        got["insert is a named thing"] = any(_said(insert[0], t) for t in want["things"])
    if "action" in want:
        got["action"] = want["action"] in every
    if "who" in want:
        got["who"] = any(want["who"] in p for p in plan.characters.values())
    return got


def test_the_plan_keeps_what_the_prompt_says(plans):
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    misses: list[str] = []
    for prompt, want in DIRECTOR_TABLE:
        for field, ok in _checks(plans[prompt], want).items():
            total[field] += 1
            passed[field] += ok
            if not ok:
                misses.append(f"{field}: {prompt}")
    print("\nfield                    passed / rows")
    for field in total:
        print(f"{field:24} {passed[field]:3d} / {total[field]}")
    print("\n".join(["misses:", *misses]) if misses else "no misses")
    low = {f: f"{passed[f]}/{total[f]}" for f in total if passed[f] < BAR * total[f]}
    assert not low, f"fields under the {BAR:.0%} bar: {low}"


def test_different_prompts_give_different_stories(plans):
    loglines = [p.story_logline for p in plans.values()]
    narration = [tuple(p.vo_script_per_shot) for p in plans.values()]
    inserts = [s.prompt.split(". ")[1] for p in plans.values() for s in p.shots if "insert" in s.shot_type.lower()]
    assert len(set(loglines)) == len(loglines)
    assert len(set(narration)) == len(narration)
    assert len(set(inserts)) >= 0.8 * len(inserts)


@pytest.mark.parametrize("prompt, role", [
    ("a courier cycles across Rotterdam bridges in the rain", "courier"),
    ("a nurse walks through Seoul at night", "nurse"),
    ("Nairobi at dawn, a runner runs alone", "runner"),
])
def test_a_place_never_becomes_a_character(prompt, role):
    plan = HeuristicDirector().plan(prompt)
    assert len(plan.characters) == 1 and role in plan.characters["A"]
    for match, _ in find_places(prompt):
        assert all(match.text not in line for line in plan.vo_script_per_shot)


def test_a_plural_subject_keeps_its_verb_said_of_the_lead():
    """'two friends share', 'a fisherman and his granddaughter haul': the base-form verb after a
    plural subject is the lead's action, in the third person; 'and' before a verb is no pair."""
    director = HeuristicDirector()
    for prompt, said in (("two friends share a last coffee on a Paris rooftop", "shares a last coffee"),
                         ("a fisherman and his young granddaughter carry baskets at dawn", "carries baskets"),
                         ("a woman and her dog watch the sea", "watches the sea"),
                         ("a fisherman and his granddaughter go fishing at dawn", "goes fishing"),
                         ("a boy and his grandfather fly a kite on a windy hill", "flies a kite"),
                         ("two firemen drink coffee at dawn", "drinks coffee")):
        every = " ".join(s.prompt for s in director.plan(prompt).shots)
        assert said in every, (prompt, every[:300])
    every = " ".join(s.prompt for s in director.plan("a fisherman and mends his nets").shots)
    assert "mends" not in every and "his nets" not in every


def test_first_names_are_people_not_towns():
    """'Anna' is also a Russian town and 'Ben' an alternate name of Bern: in a person's place in the
    sentence they are people, with the pronoun their name usually takes; the city is then Lisbon."""
    director = HeuristicDirector()
    plan = director.plan("Anna and Ben dance in the rain on a Lisbon street")
    portraits = list(plan.characters.values())
    assert [p.split(" (")[0] for p in portraits] == ["Anna", "Ben"], portraits
    assert "woman" in portraits[0] and " man" in portraits[1]
    assert plan.vo_lang == "p" and "Lisbon" in plan.shots[0].prompt and "dances" in plan.shots[0].prompt
    assert "Anna" in " ".join(s.prompt for s in director.plan("a sailor from Anna waits on the pier").shots)
    said_his = director.plan("Anna dances with his brother")  # the prompt's own pronoun wins
    assert " man" in list(said_his.characters.values())[0]
    paris = director.plan("Paris sparkles at night while a violinist plays")  # a big city is never a name
    assert plan.vo_lang == "p" and paris.vo_lang == "f" and "Paris" in paris.shots[0].prompt


def test_explicit_words_beat_defaults():
    director = HeuristicDirector()
    assert time_of_day(director.plan("a night-shift nurse walks home at dawn").shots[0].prompt) == "dawn"
    snowy = director.plan("snow falls on a quiet street")
    assert "golden hour" not in " ".join(s.prompt for s in snowy.shots).lower()
    assert all(_said(s.prompt, "snow") for s in snowy.shots)


@pytest.mark.parametrize("prompt", [
    "كمان في القاهرة عند منتصف الليل",  # Arabic: a violinist in Cairo at midnight
    "Ein alter Mann geht im Regen durch Berlin",  # German
    "서울의 밤거리를 걷는 고양이",  # Korean
])
def test_a_prompt_it_cannot_read_gets_one_clear_line(prompt):
    with pytest.raises(UserError, match="plans from English, .*Japanese.*Write the prompt in one of those"):
        HeuristicDirector().plan(prompt)


# --------------------------------------------------------------------------------------- painter

# prompt, setting type, weather, props the animatic must draw (in some frame), and things it must name.
PAINTER_TABLE = [
    ("an old fisherman mends his nets on a windy pier in Lisbon at dawn while gulls circle", "pier", "wind",
     {"net", "gulls"}),
    ("a courier cycles across Rotterdam bridges in the rain", "bridge", "rain", {"bicycle"}),
    ("a night-shift nurse walks home through an empty Glasgow street as the first tram passes at dawn", "street",
     None, {"tram"}),
    ("a girl flies a kite on a beach in the snow", "beach", "snow", {"kite"}),
    ("a vendor sells noodles in a busy night market", "market", None, {"bowl"}),
    ("a gondolier rows along a foggy Venice canal", "canal", "fog", set()),
    ("a man feeds pigeons on a rooftop at sunset", "rooftop", None, {"birds"}),
    ("a woman walks her dog in a park in the morning", "park", None, {"dog"}),
    ("a hiker climbs a mountain trail in the wind", "mountain", "wind", set()),
    ("a rider crosses the desert on a horse at noon", "desert", None, {"horse"}),
    ("a carpenter works in a workshop on a rainy afternoon", "workshop", "rain", set()),
    ("two friends drink coffee in a small cafe", "cafe", None, {"cup"}),
    ("a baker kneads bread in a kitchen at dawn", "kitchen", None, {"bread"}),
    ("a painter paints at an easel in her studio", "studio", None, {"paintbrush"}),
    ("a boy watches boats in the harbour at dusk", "harbour", None, {"boat"}),
    ("a trumpeter plays by the river at night", "water", None, set()),
    ("a cat walks through a misty forest", "forest", "fog", {"cat"}),
    ("a fisherman hauls nets in a Norwegian fjord at dawn", "water", None, {"net"}),
    ("a kayaker paddles across a Scottish loch in the fog", "water", "fog", set()),
    ("a street musician plays guitar under a bridge in Prague at midnight", "bridge", None, set()),
    ("an old woman sells flowers at a Mexico City market at sunrise", "market", None, set()),
    ("a young couple says goodbye on a snowy train platform in Vienna", "street", "snow", set()),
    ("a lighthouse keeper walks to the lighthouse at dusk", "beach", None, set()),
]


def test_the_animatic_draws_the_setting_weather_and_props():
    director = HeuristicDirector()
    passed: Counter[str] = Counter()
    misses: list[str] = []
    for prompt, setting, weather, props in PAINTER_TABLE:
        plan = director.plan(prompt)
        frames = [describe(plan, s) for s in plan.shots]
        drawn = {p for f in frames for p in f.props}
        named = {p for f in frames for p in f.unnamed}
        checks = {
            "setting": frames[0].setting == setting and describe(plan).setting == setting,
            "weather": all(f.weather == weather for f in frames),
            "props": props <= drawn,
        }
        for field, ok in checks.items():
            passed[field] += ok
            if not ok:
                misses.append(f"{field}: {prompt} -> {frames[0]}")
    print("\nfield                         passed / rows")
    for field in ("setting", "weather", "props"):
        print(f"{field:30} {passed[field]:3d} / {len(PAINTER_TABLE)}")
    print("\n".join(["misses:", *misses]) if misses else "no misses")
    assert all(passed[f] >= BAR * len(PAINTER_TABLE) for f in passed), misses


@pytest.mark.parametrize("prompt, thing", [
    ("a trumpeter plays by the river at night", "trumpet"),
    ("a jazz trumpeter plays on a New Orleans rooftop at sunset", "trumpet"),
    ("an old man plays the accordion on a Paris bridge", "accordion"),
    ("a girl carries her surfboard along the beach at dawn", "surfboard"),
])
def test_a_thing_the_animatic_cannot_draw_is_named_not_dropped(prompt, thing):
    """Every row, not a share of them: a prop with no drawing is written in the frame's caption."""
    plan = HeuristicDirector().plan(prompt)
    frames = [describe(plan, s) for s in plan.shots]
    assert any(thing in f.unnamed for f in frames), [f.unnamed for f in frames]
    assert not any(thing in f.props for f in frames)


# ------------------------------------------------------------------ prompts nobody tuned the tables for

EVERYDAY = json.loads((Path(__file__).parent / "data" / "everyday_prompts.json").read_text())["prompts"]


def _half(prompt: str) -> str:
    """The split, fixed once (reel.ids.half, which benchmarks.tier1_sweep shares)."""
    return split_half(prompt)


_AGES = {"old": lambda a: a >= 60, "young": lambda a: a <= 30, "child": lambda a: a < 13}


def _everyday_checks(plan: Plan, want: dict) -> dict[str, list[bool]]:
    """For each field, one pass per named word ('things' has one per thing)."""
    every = " ".join(s.prompt for s in plan.shots)
    portraits = list(plan.characters.values())
    ages = [int(m.group(1)) for p in portraits for m in [re.search(r"(\d+)-year-old", p)] if m]
    inserts = [s.prompt for s in plan.shots if s.dominant_subject == "scene" and "insert" in s.shot_type.lower()]
    got: dict[str, list[bool]] = {"who": [any(_said(p, want["who"]) for p in portraits)]}
    if "age" in want:
        got["age"] = [bool(ages) and _AGES[want["age"]](ages[0])]
    if "people" in want:
        got["people"] = [len(plan.characters) == want["people"]]
    got["action"] = [_said(every, want["action"])]
    if want.get("things"):
        got["things"] = [_said(every, t) for t in want["things"]]
        if inserts:
            got["insert is a named thing"] = [any(_said(inserts[0], t) for t in want["things"])]
    if "place" in want:
        got["place"] = [_said(every, want["place"])]
    if "city" in want:
        got["city"] = [want["city"] in every]
    if "time" in want:
        got["time"] = [time_of_day(every) == want["time"]]
    if "weather" in want:
        got["weather"] = [detect_weather(every) == want["weather"]]
    return got


# Held-out figures over rounds 1-8 (target: at least 90% of 1485 words = 1337, of 238 prompts = 215),
# measured after round 8's development-half changes (a role's own modifier, weather in a phrase that says
# when, the parse's slips); round 8 as written, before them, 1452/1485 and 214/238 (its own held-out
# 228/229 and 36/37). Rounds 1-7 went from 1219/1254 and 175/201 to 1224/1256 and 178/201 with round 7's;
# rounds 1-6 from 998/1047 and 130/165 to 1017/1042 and 146/165 with round 6's; rounds 1-5 from 787/829
# and 100/129 to 788/829 and 100/129 with round 5's; rounds 1-3 alone had been 479/507 and 63/80 on
# branch i18; round 1 alone 174/198 and 18/32 on issue-18.
HELD_OUT_FLOOR = {"named words": 1454, "prompts complete": 216}


def test_everyday_prompts_dev_and_held_out():
    """Both halves' pass counts per field; the held-out half (never tuned on) is printed against the
    90% target (named words kept, prompts complete), per round of prompts and together, and must not
    fall below the measured floor. Only the development half's misses are printed: the held-out
    half's are not for reading (tuning on them would make its figures meaningless)."""
    director = HeuristicDirector()
    passed = {h: Counter() for h in ("dev", "held-out")}
    total = {h: Counter() for h in ("dev", "held-out")}
    complete, count, kept_by, named_by = Counter(), Counter(), Counter(), Counter()
    misses: list[str] = []
    for want in EVERYDAY:
        half, batch = _half(want["prompt"]), (_half(want["prompt"]), want.get("round", 1))
        checks = _everyday_checks(director.plan(want["prompt"]), want)
        for field, oks in checks.items():
            total[half][field] += len(oks)
            passed[half][field] += sum(oks)
            if not all(oks) and half == "dev":
                misses.append(f"{field}: {want['prompt']}")
        ok = all(all(o) for o in checks.values())
        count[half] += 1
        complete[half] += ok
        count[batch] += 1
        complete[batch] += ok
        kept_by[batch] += sum(sum(o) for o in checks.values())
        named_by[batch] += sum(len(o) for o in checks.values())
    fields = list(dict.fromkeys(f for h in total for f in total[h]))
    print(f"\n{'field':24} {'dev':>9} {'held-out':>9}")
    for field in fields:
        print(f"{field:24} " + " ".join(f"{passed[h][field]:4d}/{total[h][field]:<4d}" for h in ("dev", "held-out")))
    words = {h: (sum(passed[h].values()), sum(total[h].values())) for h in passed}
    print(f"{'named words':24} " + " ".join(f"{words[h][0]:4d}/{words[h][1]:<4d}" for h in ("dev", "held-out")))
    print(f"{'prompts complete':24} " + " ".join(f"{complete[h]:4d}/{count[h]:<4d}" for h in ("dev", "held-out")))
    for batch in sorted(b for b in count if isinstance(b, tuple)):
        print(f"{batch[0]} round {batch[1]}: named words {kept_by[batch]}/{named_by[batch]}, "
              f"prompts complete {complete[batch]}/{count[batch]}")
    print("\n".join(["dev misses:", *misses]) if misses else "no dev misses")
    kept, named = words["held-out"]
    print(f"target (issue 18): held-out keeps {BAR:.0%} of named words ({math.ceil(BAR * named)}) and {BAR:.0%} of "
          f"prompts complete ({math.ceil(BAR * count['held-out'])}); measured {kept}/{named} and "
          f"{complete['held-out']}/{count['held-out']}")
    assert len(EVERYDAY) >= 60 and min(count[h] for h in ("dev", "held-out")) >= 25
    # No regression below what was measured (raise HELD_OUT_FLOOR as the figures rise, never lower it).
    assert kept >= HELD_OUT_FLOOR["named words"], f"held-out prompts keep {kept} of {named} named words"
    assert complete["held-out"] >= HELD_OUT_FLOOR["prompts complete"], (
        f"{complete['held-out']} of {count['held-out']} held-out prompts complete")


# ------------------------------------------------------------------ the scene as data
def test_the_plan_carries_the_scene_as_data():
    """The director writes what it read as the plan's scene: the place with its modifiers and head
    noun, the things in the prompt's words, each character's role and age."""
    plan = HeuristicDirector().plan("a beekeeper lifts a honeycomb frame in a lavender field in Provence at noon")
    scene = plan.scene
    assert "lavender field" in scene.place and scene.place_kind == "field" and scene.time == "noon"
    assert scene.things == ["honeycomb frame"] and scene.people["A"].role == "beekeeper"
    plan = HeuristicDirector().plan("a carpenter and his apprentice lift a heavy beam in a barn")
    assert [p.role for p in plan.scene.people.values()] == ["carpenter", "apprentice"]
    plan = HeuristicDirector().plan("a shepherd leads his flock of sheep across a green valley in Wales at dawn")
    assert plan.scene.things[0] == "flock of sheep" and "A flock of sheep" in plan.shots[2].prompt
    # A bare noun the tagger calls an adverb; 'corn' is no part of 'street corner'.
    assert HeuristicDirector().plan("a woman hangs laundry on a balcony in Naples on a windy morning").scene.things == ["laundry"]
    assert "corn" in HeuristicDirector().plan("a vendor grills corn on a street corner in Mexico City at night").scene.things
    insert = HeuristicDirector().plan("a postman delivers letters on a snowy village street in the morning").shots[2].prompt
    assert re.search(r"Letters (rest|sit|lie) ", insert) and "snowy village street" in insert, insert


@pytest.mark.parametrize("prompt", [
    "an old fisherman mends his nets on a windy pier in Lisbon at dawn while gulls circle",
    "a girl flies a red kite on a Nairobi hill in the wind",
    "a violinist plays on a foggy Venice canal at dusk",
])
def test_a_plan_without_a_scene_gets_one_from_its_text(prompt):
    """An LLM's plan has no scene: it is derived once from the plan's own text with the director's
    readers, and agrees with what the director wrote on time, weather and the backdrop it gives."""
    from models.cpu.director import scene_of
    from models.cpu.painter.scene import setting_kind

    plan = HeuristicDirector().plan(prompt)
    derived = scene_of(plan.model_copy(update={"scene": None}))
    written = scene_of(plan)
    assert written is plan.scene
    assert (derived.time, derived.weather, setting_kind(derived)) == (written.time, written.weather, setting_kind(written))
    assert set(written.things) <= set(derived.things) and derived.people.keys() == written.people.keys()


def test_a_scene_names_only_the_plans_characters():
    plan = HeuristicDirector().plan("a girl flies a red kite on a Nairobi hill in the wind")
    data = plan.model_dump()
    data["scene"]["people"]["Z"] = {"role": "ghost"}
    with pytest.raises(ValueError, match="scene.people.Z is not a character key"):
        Plan.model_validate(data)


def test_what_the_painter_draws_from_keys_its_stages():
    """An edit to the plan's scene repaints the scene and group masters and every keyframe (their
    cache keys hold it); a plan without a scene keys as before (old reels keep their pictures)."""
    from tasks.keyframes import _key
    from tasks.masters import master_inputs

    plan = HeuristicDirector().plan("a farmer drives a red tractor across a wheat field at sunset")
    dusk = plan.model_copy(update={"scene": plan.scene.model_copy(update={"time": "dusk"})})
    bare = plan.model_copy(update={"scene": None})
    for subject in ("scene", "group"):
        assert master_inputs(plan, subject) != master_inputs(dusk, subject)
        assert "scene" not in master_inputs(bare, subject)
    assert master_inputs(plan, "A") == master_inputs(dusk, "A")  # a portrait does not read the scene
    keys = [_key(None, p, 0, {}, _Preset(), 1, "animatic") for p in (plan, dusk, bare)]
    assert keys[0] != keys[1] and "scene" not in keys[2]


class _Preset:
    render_size = (320, 180)
