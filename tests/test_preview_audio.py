"""The CPU preview audio backends: General MIDI music and espeak-ng voice, on real renders."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from models.cpu.midi_music import MidiMusic, build_midi, parse_brief
from models.cpu.espeak_voice import EspeakVoice, to_kana
from reel.errors import UserError

AMBIENT = "intimate ambient piano with warm pad and soft bells, 75 BPM, melancholic but hopeful, no drums"
DRIVING = "driving synth bass and electric guitar, 118 BPM, energetic, with drums"


def read_wav(path: Path) -> tuple[np.ndarray, int, int]:
    """(samples as float in [-1, 1] shaped frames x channels, sample rate, channels)."""
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2
        ch, rate = w.getnchannels(), w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.reshape(-1, ch) / 32768.0, rate, ch


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


# ---------------------------------------------------------------- music

@pytest.fixture(scope="module")
def ambient_wav(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("music") / "ambient.wav"
    MidiMusic().compose(AMBIENT, 30.0, 7, out)
    return out


def test_music_is_30s_48k_stereo_at_minus_3_dbfs(ambient_wav):
    audio, rate, ch = read_wav(ambient_wav)
    assert (rate, ch) == (48000, 2)
    assert len(audio) == 30 * 48000
    assert -3.5 < 20 * np.log10(np.abs(audio).max()) < -2.5


def test_music_has_energy_through_the_whole_length(ambient_wav):
    audio, rate, _ = read_wav(ambient_wav)
    windows = np.array_split(audio, 10)  # 3 s each
    levels = [rms(w) for w in windows]
    assert min(levels[:-1]) > 0.03, levels  # no dead stretch: the arrangement spans the reel
    assert levels[-1] > 0.005, levels  # the held final chord is still sounding under the fade
    assert rms(audio[-rate // 100:]) < levels[-2] / 4  # ...and it does fade out


def test_music_is_deterministic_and_follows_the_brief(tmp_path, ambient_wav):
    again, other, reseeded = tmp_path / "again.wav", tmp_path / "other.wav", tmp_path / "seed.wav"
    MidiMusic().compose(AMBIENT, 30.0, 7, again)
    MidiMusic().compose(DRIVING, 30.0, 7, other)
    MidiMusic().compose(AMBIENT, 30.0, 8, reseeded)
    assert again.read_bytes() == ambient_wav.read_bytes()
    assert other.read_bytes() != ambient_wav.read_bytes()
    assert reseeded.read_bytes() != ambient_wav.read_bytes()
    driving, _, _ = read_wav(other)
    assert len(driving) == 30 * 48000 and rms(driving) > 0.03


def test_music_length_is_exact_for_odd_durations(tmp_path):
    out = tmp_path / "short.wav"
    MidiMusic().compose(DRIVING, 7.25, 1, out)
    audio, rate, _ = read_wav(out)
    assert len(audio) == round(7.25 * rate)
    assert rms(audio) > 0.02


@pytest.mark.parametrize("brief, bpm", [
    (AMBIENT, 75), (DRIVING, 118), ("lofi beat at 84bpm", 84), ("solo cello", 90), ("tempo 300 BPM", 200),
])
def test_bpm_parsing(brief, bpm):
    assert parse_brief(brief).bpm == bpm


def test_brief_parsing_mood_energy_and_instruments():
    ambient = parse_brief(AMBIENT)
    assert (ambient.mode, ambient.energy, ambient.drums) == ("bittersweet", "low", False)
    assert [i.program for i in ambient.instruments] == [0, 89, 8]  # piano, warm pad, celesta bells
    driving = parse_brief(DRIVING)
    assert (driving.mode, driving.energy, driving.drums) == ("major", "high", True)
    # the longest phrase wins: "synth bass" is one instrument, not a synth and a bass
    assert [i.word for i in driving.instruments] == ["synth bass", "electric guitar"]
    assert parse_brief("dark tense strings and koto, sitar, erhu, 100 BPM").mode == "minor"
    assert [i.program for i in parse_brief("koto, sitar and erhu").instruments] == [107, 104, 110]
    assert parse_brief("piano, no strings").instruments[0].word == "piano"
    assert len(parse_brief("piano, no strings").instruments) == 1


def test_no_drums_is_honoured_in_the_arrangement():
    assert not any(i.is_drum for i in build_midi(AMBIENT, 30.0, 1).instruments)
    refused = build_midi("energetic rock guitar, 130 BPM, without drums", 30.0, 1)
    assert not any(i.is_drum for i in refused.instruments)
    drums = [i for i in build_midi(DRIVING, 30.0, 1).instruments if i.is_drum]
    assert len(drums) == 1 and len(drums[0].notes) > 50


def test_arrangement_has_bass_chords_melody_and_ending():
    pm = build_midi(DRIVING, 30.0, 3)
    names = {i.name for i in pm.instruments}
    assert {"bass0", "pad0", "lead0", "drums"} <= names
    lead = next(i for i in pm.instruments if i.name == "lead0")
    assert len({n.pitch for n in lead.notes}) >= 4  # a tune, not a drone
    last_start = max(n.start for i in pm.instruments for n in i.notes)
    assert 24.0 < last_start < 28.0  # the final chord lands a bar or so before the end and rings out


# ---------------------------------------------------------------- voice

LINES = {
    "a": "She walks alone through the quiet evening city.",
    "b": "The rain follows her down the empty street.",
    "e": "Ella camina sola por la ciudad al anochecer.",
    "f": "Elle marche seule dans la ville au crépuscule.",
    "h": "शाम की रोशनी में वह अकेली चलती है",
    "i": "Lei cammina da sola nella città al tramonto.",
    "j": "彼女は夜の街を一人で歩いた",
    "p": "Ela caminha sozinha pela cidade ao anoitecer.",
    "z": "她独自走过夜晚的城市",
}


@pytest.mark.parametrize("lang", sorted(LINES))
def test_voice_speaks_every_language(tmp_path, lang):
    out = tmp_path / f"vo_{lang}.wav"
    duration = EspeakVoice().speak(LINES[lang], lang, out)
    audio, rate, ch = read_wav(out)
    assert ch == 1 and rate >= 16000
    assert duration == pytest.approx(len(audio) / rate)
    assert 0.5 < duration < 8.0
    assert rms(audio) > 0.03  # audible speech, not a click or silence
    voiced = np.mean([rms(w) > 0.02 for w in np.array_split(audio[:, 0], 20)])
    assert voiced > 0.5  # speech throughout, not one burst


def test_japanese_kanji_is_read_through_kana():
    kana = to_kana("彼女は夜の街を一人で歩いた")
    assert kana == "かのじょわよるのまちをひとりであるいた"  # the topic particle は is said "wa"


def test_voice_model_id_names_the_espeak_version():
    voice = EspeakVoice()
    voice.load()
    assert voice.name == "espeak" and voice.model_id.startswith("espeak-ng 1.")


def test_bad_language_and_empty_text_are_user_errors(tmp_path):
    with pytest.raises(UserError) as err:
        EspeakVoice().speak("hello there", "x", tmp_path / "x.wav")
    for code in "a b e f h i j p z".split():
        assert code in str(err.value).split("valid codes:")[1]
    with pytest.raises(UserError):
        EspeakVoice().speak("   ", "a", tmp_path / "empty.wav")
