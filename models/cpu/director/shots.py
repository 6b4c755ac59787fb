"""Shot prompts: one camera sentence first, one motion sentence per character, the named things, light, boundary, lens.

The slots of the arc (hero wide, setup, insert or secondary beat, climax, close-up, closing wide)
and every phrase come from prompts/director_rules.json. Each thing the prompt names is kept in
at least one shot: the story object in the insert and the climax, the others as short ambient
sentences that the word budget never drops.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from reel import prompts
from reel.schema import SCENE, Shot

from .cast import Character
from .setting import Action
from .text import RULES, cap, count_words, rng_for


@dataclass
class Scene:
    prompt: str
    seed: int
    people: list[Character]
    place: str
    time: str
    weather: str | None
    story_object: str | None  # None: the insert shows the setting itself
    things: list[str] = field(default_factory=list)  # every object and creature named, in order
    action: Action | None = None  # the lead's verb phrase, as the prompt says it
    said: dict[str, dict] = field(default_factory=dict)  # things no table lists, in the prompt's words (parsed.py)

    def obj(self, thing: str) -> dict:
        """The objects-table entry of a thing, or the one built for a thing the prompt names in its own words."""
        entry = self.said.get(thing) or prompts.table(RULES)["objects"][thing]
        return {**entry, "ambient": entry["ambient"].replace("{place}", self.place)}

    def extra_things(self, shown: bool = True) -> list[str]:
        """Things that get an ambient sentence in shots with people: all named things but a held
        story object that an insert or climax shows (`shown`); a tram or gulls also pass through the wides."""
        held = self.story_object and self.obj(self.story_object)["kind"] == "held"
        return [t for t in self.things if not (held and shown and t == self.story_object)]


def _rules() -> dict:
    return prompts.table(RULES)


def _cast(spec: str, people: list[Character]) -> list[Character]:
    return {"all": people, "A": people[:1], "others": people[1:], "AB": people[:2],
            "last": people[-1:], "none": []}[spec]


def _fill(actor: Character, scene: Scene, cast: list[Character]) -> dict[str, str]:
    partner = next((c for c in cast if c is not actor), scene.people[0])
    return {"sub": actor.pronoun("sub"), "obj": actor.pronoun("obj"), "pos": actor.pronoun("pos"),
            "place": scene.place, "garment": actor.garment, "lead": scene.people[0].name, "partner": partner.name}


def _action(key: str, actor: Character, scene: Scene, cast: list[Character], variant: int) -> tuple[str, str]:
    """(long, short) motion sentence for one character, opening with their head phrase."""
    rules = _rules()
    fill = _fill(actor, scene, cast)
    if key == "object" and scene.story_object and scene.story_object in scene.said and scene.action \
            and actor is scene.people[0] and scene.story_object in scene.action.text:
        long, short = scene.action.text, scene.action.text  # the prompt's own verb says what is done with it
    elif key == "object" and scene.story_object:
        long, short = scene.obj(scene.story_object)["action"]
    elif key in ("hero_lead", "object", "travel") and scene.action and actor is scene.people[0]:
        # The prompt's own verb: "mends his nets", "rides a bicycle across Rotterdam bridges".
        said = scene.action.text
        tail = rules["action_tails"][variant % len(rules["action_tails"])]
        long, short = f"{said}, {tail}", said
    else:
        key = "setup" if key == "object" else key
        options = rules["actions"][key]
        pick = variant % len(options["long"])
        long, short = options["long"][pick], options["short"][pick]
    return tuple(f"{actor.head} {t.format(**fill)}." for t in (long, short))  # type: ignore[return-value]


def _insert_sentences(scene: Scene, rng: random.Random) -> list[str]:
    rules = _rules()
    if scene.story_object is None:  # nothing named: a detail of the setting, not an invented prop
        lines = rules["setting_inserts"]
        return [rng.choice(lines).format(place=scene.place), rng.choice(rules["insert_details"]).format(place=scene.place, it="it")]
    thing = scene.obj(scene.story_object)
    a_object = thing["a"]
    if thing["kind"] != "held":  # a creature or a vehicle is seen where it is, not laid on a bench
        return [f"A close view of {a_object} at the {scene.place}.", thing["ambient"]]
    many = thing.get("plural", False)  # "Letters rest", "a loaf rests"
    fill = {"a_object": a_object, "A_object": cap(a_object), "place": scene.place, "s": "" if many else "s",
            "it": "them" if many else "it", "its": "their" if many else "its"}
    return [rng.choice(rules["inserts"]).format(**fill), rng.choice(rules["insert_details"]).format(**fill)]


def _boundary(cast: list[Character], scene: Scene, rng: random.Random) -> str:
    table = _rules()["boundaries"]
    kind = "scene" if not cast else "solo" if len(cast) == 1 else "group"
    names = [c.name for c in cast]
    joined = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    obj = cast[0].pronoun("obj") if cast else ""
    return cap(rng.choice(table[kind]).format(place=scene.place, names=joined, obj=obj))


def _compose(camera: str, people: list[tuple[str, str]], required: list[str], things: list[str],
             extras: list[list[str]], fillers: list[str], boundary: str, place: str) -> str:
    """Fit the sentences to the word budget: long motions if they fit, the weather said outright,
    the named things (short motions first, so they fit), then light/ambient, fillers if short."""
    rules = _rules()
    low, high = rules["prompt_words"]
    anchor = rules["lens_anchor"]
    options = [[p[0] for p in people]]
    options += [[p[0] for p in people[:k]] + [p[1] for p in people[k:]] for k in range(len(people) - 1, -1, -1)]
    motions = next((o for o in options if count_words(camera, *o, *required, *things, boundary, anchor) <= high),
                   options[-1])
    body = [camera, *motions, *required]
    for sentence in things:  # a crowded prompt over a few shots: the thing that does not fit goes to the next shot
        if count_words(*body, sentence, boundary, anchor) <= high:
            body.append(sentence)
    for alternatives in extras:  # each extra in its longest form that still fits
        fitting = [s for s in alternatives if count_words(*body, s, boundary, anchor) <= high]
        body += fitting[:1]
    for sentence in fillers:
        if count_words(*body, boundary, anchor) >= low:
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


def things_for_shots(scene: Scene, slots: list[str]) -> dict[int, list[str]]:
    """Which shots carry which extra things: spread over the shots with people, the hero wide first."""
    slot_table = _rules()["slots"]
    shown = any(slot_table[s]["cast"] == "none" or slot_table[s].get("actions", {}).get("first") == "object" for s in slots)
    extra = scene.extra_things(shown)
    with_people = [i for i, s in enumerate(slots) if slot_table[s]["cast"] != "none"] or list(range(len(slots)))
    plan: dict[int, list[str]] = {}
    for k, thing in enumerate(extra):
        for shot in (with_people[k % len(with_people)], with_people[(k + 1) % len(with_people)]):
            plan.setdefault(shot, []).append(thing)
    return plan


def make_shot(index: int, slot_name: str, scene: Scene, previous: list[Character] | None,
              things: list[str]) -> tuple[Shot, list[Character]]:
    rules = _rules()
    slot = rules["slots"][slot_name]
    rng = rng_for(scene.prompt, scene.seed, f"shot{index}")
    cast = _cast(slot["cast"], scene.people)
    camera, shot_type = rng.choice(slot["camera"])
    camera = camera.format(place=scene.place)
    actions = slot.get("actions", {})
    base = rng.randrange(2)  # the rest of the cast take the next variants, so no two do the same thing
    people = [_action(actions["first"] if k == 0 else actions["rest"], c, scene, cast, base + k)
              for k, c in enumerate(cast)]
    if not cast:
        people = [(s, s) for s in _insert_sentences(scene, rng)]
    required: list[str] = []
    time = rules["times"][scene.time]
    weather = rules["weather"][scene.weather]["ambient"] if scene.weather else None
    extras = [[cap(time["light"].format(place=scene.place)), time["light_short"]],
              [weather or rng.choice(time["ambient"])]]
    if weather:  # the weather is said outright: it must survive the word budget
        required.append(weather)
        extras = extras[:1]
    prompt = _compose(camera, people, required, [scene.obj(t)["ambient"] for t in things], extras, rules["fillers"], _boundary(cast, scene, rng), scene.place)
    cut = index == 0 or slot["cut"] or not (previous and set(c.key for c in cast) & set(c.key for c in previous))
    dominant = cast[0].key if cast and slot["dominant"] == "first" else SCENE
    return Shot(index=index, is_hero=index == 0, shot_type=shot_type, dominant_subject=dominant,
                cut=cut, prompt=prompt), cast


def shot_slots(n_shots: int, n_people: int) -> list[str]:
    """The arc slot each shot plays, for this many shots and people."""
    rules = _rules()
    size = "solo" if n_people < 2 else "group"
    return [rules["resolve"][s][size] if s in rules["resolve"] else s for s in rules["layouts"][str(n_shots)]]
