"""Preview music: a short General MIDI arrangement of the brief, rendered on CPU.

The brief ("intimate ambient piano with warm pad, 75 BPM, melancholic but hopeful, no drums")
is read for tempo, key colour, energy, instruments and drums; pretty_midi holds the arrangement
(bass, chords, melody, optional drums, a held final chord) and tinysoundfont plays it through the
General MIDI soundfont that pretty_midi ships, so the preview has real instrument timbres without
any download. Word tables live in prompts/music_preview.json. Same (brief, seconds, seed), same wav.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from reel import prompts
from reel.errors import BackendUnavailable
from models.cpu.midi_render import finish, soundfont_path, synthesize, write_wav
from models.base import BackendBase

TABLE = "music_preview.json"
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii")
CRASH, KICK, SNARE = 49, 36, 38


@dataclass(frozen=True)
class Instrument:
    word: str
    program: int
    role: str  # bass | pad | keys | lead | bells


@dataclass(frozen=True)
class MusicBrief:
    bpm: float
    mode: str  # major | minor | bittersweet
    energy: str  # low | mid | high
    drums: bool
    instruments: tuple[Instrument, ...]  # in the order the brief names them


# --- reading the brief -------------------------------------------------------------------------

def _mentions(phrases: list[str], text: str, negations: list[str]) -> list[tuple[int, str, bool]]:
    """(position, phrase, negated) for each phrase in text; longest phrase wins an overlap."""
    taken: list[tuple[int, int]] = []
    found = []
    negated_before = re.compile(rf"\b(?:{'|'.join(negations)})\s+(?:\w+\s+)?$")
    for phrase in sorted(phrases, key=len, reverse=True):
        for m in re.finditer(rf"\b{re.escape(phrase)}(?:e?s)?\b", text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append((m.start(), phrase, bool(negated_before.search(text[: m.start()]))))
    return sorted(found)


def parse_brief(brief: str) -> MusicBrief:
    """Read tempo, mode, energy, drums and instruments from a free-text music brief."""
    t = prompts.table(TABLE)
    text = brief.lower()
    neg = t["negations"]

    m = re.search(r"(\d{2,3}(?:\.\d+)?)\s*bpm", text)
    lo, hi = t["bpm_range"]
    bpm = min(max(float(m[1]), lo), hi) if m else float(t["default_bpm"])

    def count(words: list[str]) -> int:
        return sum(not n for _, _, n in _mentions(words, text, neg))

    minor, major = count(t["mood"]["minor"]), count(t["mood"]["major"])
    mode = "bittersweet" if minor and major else "minor" if minor else "major"

    high, low = count(t["energy"]["high"]), count(t["energy"]["low"])
    if high != low:
        energy = "high" if high > low else "low"
    else:  # no (or balanced) energy words: let the tempo decide
        energy = "high" if bpm >= 115 else "low" if bpm <= 80 else "mid"

    # Drums unless refused; a calm brief gets them only when it asks for them.
    drum_hits = _mentions(t["drum_words"], text, neg)
    refused = any(n for _, _, n in drum_hits) or count(t["drumless_words"]) > 0
    drums = not refused and (bool(drum_hits) or energy != "low")

    table = t["instruments"]
    instruments, seen = [], set()
    for _, word, negated in _mentions(list(table), text, neg):
        entry = table[word]
        if not negated and (entry["program"], entry["role"]) not in seen:
            seen.add((entry["program"], entry["role"]))
            instruments.append(Instrument(word, entry["program"], entry["role"]))
    return MusicBrief(bpm, mode, energy, drums, tuple(instruments[:8]))


def cast(b: MusicBrief) -> dict[str, list[int]]:
    """GM programs per arrangement part; the brief's instruments first, defaults fill the gaps."""
    defaults = prompts.table(TABLE)["defaults"]
    roles = ("bass", "pad", "keys", "lead", "bells")
    by_role = {r: [i.program for i in b.instruments if i.role == r] for r in roles}
    # The melody goes to a lead instrument, else to keys or bells (a "piano" brief: the piano sings).
    for role in ("lead", "keys", "bells"):
        if by_role[role]:
            lead = by_role[role].pop(0)
            break
    else:
        lead = defaults["lead"][b.energy]
    parts = {
        "bass": by_role["bass"] or [defaults["bass"][b.energy]],
        "pad": by_role["pad"],
        "keys": by_role["keys"],
        "lead": [lead],
        "double": by_role["lead"],  # further leads double the melody an octave down in the lift
        "bells": by_role["bells"],
    }
    if not parts["pad"] and not parts["keys"]:
        parts["pad"] = [defaults["pad"][b.energy]]  # someone has to hold the harmony
    return parts


# --- composing ------------------------------------------------------------------------------------

def _chord(roman: str, tonic: int, scale: tuple[int, ...]) -> list[int]:
    """Pitch classes of a roman-numeral triad: upper case major, lower case minor."""
    root = tonic + scale[ROMAN.index(roman.lower())]
    return [root % 12, (root + (4 if roman.isupper() else 3)) % 12, (root + 7) % 12]


def _place(pc: int, low: int) -> int:
    """The pitch of class `pc` in [low, low + 12)."""
    return low + (pc - low) % 12


class _Score:
    """Helper that adds notes in beats to named pretty_midi instruments."""

    def __init__(self, pm, beat: float, rng: random.Random, mix: dict):
        self.pm, self.beat, self.rng, self.mix, self.parts = pm, beat, rng, mix, {}

    def part(self, key: str, role: str, program: int, is_drum: bool = False):
        import pretty_midi

        if key not in self.parts:
            inst = pretty_midi.Instrument(program=program, is_drum=is_drum, name=key)
            for number, value in ((7, self.mix[role]["volume"]), (10, self.mix[role]["pan"])):
                inst.control_changes.append(pretty_midi.ControlChange(number, value, 0.0))
            self.pm.instruments.append(inst)
            self.parts[key] = (inst, role)
        return self.parts[key]

    def note(self, key: str, pitch: int, start: float, length: float, accent: float = 1.0):
        """Add a note; start/length in beats, velocity from the role's mix level with a little life."""
        import pretty_midi

        inst, role = self.parts[key]
        vel = self.mix[role]["velocity"] * accent + self.rng.uniform(-6, 6)
        inst.notes.append(pretty_midi.Note(int(min(max(vel, 20), 127)), int(pitch),
                                           start * self.beat, (start + length) * self.beat))


def _melody_cell(rng: random.Random, rhythms: list[list[float]]) -> list[tuple[float, int]]:
    """One bar of melody as (onset beat, scale-step move)."""
    return [(on, rng.choice((-2, -1, -1, 0, 1, 1, 2))) for on in rng.choice(rhythms)]


def _bass_bar(s: _Score, key: str, chord: list[int], x: float, dyn: float, energy: str) -> None:
    """Long roots when calm, root and fifth in mid, eighth-note drive when energetic."""
    low = _place(chord[0], 36)
    if energy == "low":
        s.note(key, low, x, 3.95, dyn)
    elif energy == "mid":
        s.note(key, low, x, 2.0, dyn)
        s.note(key, low + 7, x + 2, 1.5, dyn * 0.9)
        s.note(key, low, x + 3.5, 0.5, dyn * 0.8)
    else:
        for e in range(8):
            s.note(key, low + (12 if e == 7 else 0), x + e / 2, 0.45, dyn * (1.0 if e % 2 == 0 else 0.8))


def _keys_bar(s: _Score, key: str, chord: list[int], low: int, x: float, dyn: float, energy: str) -> None:
    """Let-ring arpeggios when calm, strummed eighths when energetic."""
    tones = sorted(_place(pc, low) for pc in chord)
    tones += [p + 12 for p in tones]
    for e in range(8):
        if energy == "high":
            for j, p in enumerate(tones[1:4]):
                s.note(key, p, x + e / 2 + 0.03 * j, 0.4, dyn * (1.0 if e % 2 == 0 else 0.75))
        else:
            p = tones[(0, 1, 2, 3, 4, 3, 2, 1)[e]]
            s.note(key, p, x + e / 2, 1.5 if energy == "low" else 0.5, dyn * 0.9)


def _melody_bar(s: _Score, keys: list[str], cell, chord: list[int], steps: list[int], idx: int,
                x: float, dyn: float) -> int:
    """Realise one melody cell over `chord` as a walk on `steps`; return where the walk ends.

    keys[0] sings the line; any further keys double it an octave down.
    """
    onsets = [on for on, _ in cell] + [4.0]
    for (on, move), nxt in zip(cell, onsets[1:]):
        idx = min(max(idx + move, 0), len(steps) - 1)
        if on in (0, 2) or nxt == 4.0:  # strong beats and bar ends land on chord tones
            tones = [i for i in range(len(steps)) if steps[i] % 12 in chord]
            idx = min(tones, key=lambda i: abs(i - idx))
        length = min(nxt - on, 2.0) * 0.95
        s.note(keys[0], steps[idx], x + on, length, dyn * (1.1 if on == 0 else 1.0))
        for key in keys[1:]:
            s.note(key, steps[idx] - 12, x + on, length, dyn * 0.8)
    return idx


def build_midi(brief: str, seconds: float, seed: int):
    """The arrangement as a pretty_midi.PrettyMIDI: intro, body (with a lift), held home chord."""
    try:
        import pretty_midi
    except ImportError as exc:
        raise BackendUnavailable("the midi music backend (CPU family) needs `pip install pretty_midi`") from exc
    t = prompts.table(TABLE)
    b = parse_brief(brief)
    parts = cast(b)
    rng = random.Random(f"{seed}|{brief}")  # str seeds hash stably, unlike hash()

    scale = MINOR if b.mode == "minor" else MAJOR
    tonic = rng.choice(t["keys"]["minor" if b.mode == "minor" else "major"])
    progression = rng.choice(t["progressions"][b.mode])
    home = _chord(t["home_chord"][b.mode], tonic, scale)

    beat = 60.0 / b.bpm
    ending = max(4 * beat, 2.5)  # the held final chord needs a couple of seconds to ring and fade
    n_bars = max(0, int((seconds - ending) // (4 * beat)))
    intro = 0 if n_bars < 4 else 1 if n_bars < 8 else 2
    lift = intro + (n_bars - intro) // 2
    hold = (seconds - n_bars * 4 * beat) / beat + 1.0  # ending length in beats, past the cut

    pm = pretty_midi.PrettyMIDI(initial_tempo=b.bpm)
    s = _Score(pm, beat, rng, t["mix"])
    for role in ("bass", "pad", "keys", "lead", "double", "bells"):
        for k, program in enumerate(parts[role]):
            s.part(f"{role}{k}", "lead" if role == "double" else role, program)

    chords = [_chord(progression[bar % len(progression)], tonic, scale) for bar in range(n_bars)]
    steps = [p for p in range(62, 87) if (p - tonic) % 12 in scale]  # melody range, in key
    rhythms = t["melody_rhythms"][b.energy]
    motif = [_melody_cell(rng, rhythms) for _ in range(len(progression))]
    idx = len(steps) // 2

    for bar, chord in enumerate(chords):
        x = bar * 4.0
        dyn = 0.85 if bar < intro else 1.08 if bar >= lift else 1.0  # quiet intro, fuller second half
        for k in range(len(parts["bass"])):
            _bass_bar(s, f"bass{k}", chord, x, dyn, b.energy)
        for k in range(len(parts["pad"])):  # pads hold the chord, voiced close so chords voice-lead
            for pc in chord:
                s.note(f"pad{k}", _place(pc, 55 + 12 * k), x, 4.0, dyn)
        for k in range(len(parts["keys"])):
            _keys_bar(s, f"keys{k}", chord, 48 + 12 * k, x, dyn, b.energy)
        if bar >= intro:
            # The motif repeats with each pass of the progression; repeats vary its answering bar.
            cycle, pos = divmod(bar - intro, len(progression))
            cell = motif[pos]
            if cycle > 0 and pos == len(progression) - 1 and rng.random() < 0.6:
                cell = _melody_cell(rng, rhythms)
            doubles = [f"double{k}" for k in range(len(parts["double"]))] if bar >= lift else []
            idx = _melody_bar(s, ["lead0", *doubles], cell, chord, steps, idx, x, dyn)
        for k in range(len(parts["bells"])):  # sparse high chord tones open the second half up
            if bar >= lift:
                for on in (0.0, 2.0):
                    if rng.random() < 0.7:
                        s.note(f"bells{k}", _place(rng.choice(chord), 79), x + on, 2.0, dyn)

    if b.drums:
        _drums(s, t["drum_patterns"][b.energy], intro, n_bars, b.energy)

    # Ending: everyone lands on the home chord and holds it; the render fades it out.
    x = n_bars * 4.0
    for key, (_, role) in list(s.parts.items()):
        if role == "bass":
            s.note(key, _place(home[0], 36), x, hold)
        elif role in ("pad", "keys"):
            for j, pc in enumerate(home):  # keys roll the chord, pads just hold it
                s.note(key, _place(pc, 55), x + (0.12 * j if role == "keys" else 0), hold)
        elif key == "lead0" or role == "bells":
            s.note(key, _place(home[0], 72 if role == "lead" else 84), x, hold)
    return pm


def _drums(s: _Score, pattern: dict[str, list[float]], intro: int, n_bars: int, energy: str) -> None:
    """The groove from the pattern table, a crash where it starts, a fill into the ending."""
    s.part("drums", "drums", 0, is_drum=True)
    for bar in range(intro, n_bars):
        x = bar * 4.0
        fill = bar == n_bars - 1 and energy != "low" and n_bars - intro > 1
        for key, onsets in pattern.items():
            for on in onsets:
                if fill and on >= 3:
                    continue
                s.note("drums", int(key), x + on, 0.25, 1.0 if on == int(on) else 0.75)
        if fill:
            for j, on in enumerate((3.0, 3.25, 3.5, 3.75)):
                s.note("drums", SNARE, x + on, 0.25, 0.7 + 0.1 * j)
        if bar == intro:
            s.note("drums", CRASH, x, 2.0, 0.9)
    s.note("drums", CRASH, n_bars * 4.0, 4.0, 0.9)
    s.note("drums", KICK, n_bars * 4.0, 0.5)


# --- rendering ------------------------------------------------------------------------------------

class MidiMusic(BackendBase):
    name = "midi"
    cpu = True  # no GPU: takes no GPU turn (runtime/host.py)
    data_files = ('music_preview.json',)
    model_id = "pretty_midi+TimGM6mb"

    def load(self) -> None:
        soundfont_path()  # fail early with a setup hint rather than mid-flow

    def unload(self) -> None:
        """Nothing resident: the soundfont is loaded per render (~30 ms)."""

    def compose(self, brief: str, seconds: float, seed: int, out: Path) -> None:
        pm = build_midi(brief, seconds, seed)
        audio = synthesize(pm, seconds)
        write_wav(finish(audio, fade_s=min(2.0, max(0.3, seconds * 0.08))), Path(out))
