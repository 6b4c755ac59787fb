"""Preview music, the sound half: a PrettyMIDI arrangement played through tinysoundfont and the
General MIDI soundfont pretty_midi ships, peak-normalised, with a smooth tail, as a 48 kHz wav."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from reel.errors import BackendUnavailable

SAMPLE_RATE = 48000
PEAK = 10 ** (-3 / 20)  # -3 dBFS leaves the mixer headroom for the voice-over
DRUM_CHANNEL = 9


def soundfont_path() -> Path:
    """The General MIDI soundfont bundled with pretty_midi."""
    try:
        import pretty_midi
    except ImportError as exc:
        raise BackendUnavailable("the midi music backend (CPU family) needs `pip install pretty_midi`") from exc
    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.exists():
        raise BackendUnavailable(f"pretty_midi's soundfont is missing at {path}; reinstall pretty_midi")
    return path


def synthesize(pm, seconds: float) -> np.ndarray:
    """Play the PrettyMIDI through tinysoundfont; float32 stereo, exactly `seconds` long."""
    try:
        import tinysoundfont
    except ImportError as exc:
        raise BackendUnavailable("the midi music backend (CPU family) needs `pip install tinysoundfont`") from exc
    synth = tinysoundfont.Synth(samplerate=SAMPLE_RATE)
    sfid = synth.sfload(str(soundfont_path()))
    melodic = iter(c for c in range(16) if c != DRUM_CHANNEL)
    events = []  # (time, order, kind, channel, a, b); at equal times: controls, note-offs, note-ons
    for inst in pm.instruments:
        chan = DRUM_CHANNEL if inst.is_drum else next(melodic)
        synth.program_select(chan, sfid, 0, inst.program, is_drums=inst.is_drum)
        events += [(c.time, 0, "cc", chan, c.number, c.value) for c in inst.control_changes]
        for n in inst.notes:
            events += [(n.start, 2, "on", chan, n.pitch, n.velocity), (n.end, 1, "off", chan, n.pitch, 0)]
    events.sort(key=lambda e: e[:2])

    total = round(seconds * SAMPLE_RATE)
    buf = bytearray(total * 2 * 4)  # stereo float32 frames
    view = memoryview(buf)
    pos = 0
    for time, _, kind, chan, a, b in events:
        frame = min(total, round(time * SAMPLE_RATE))
        if frame > pos:  # advance the synth to this event, then apply it
            synth.generate_simple(frame - pos, buffer=view[pos * 8: frame * 8])
            pos = frame
        if pos >= total:
            break
        if kind == "on":
            synth.noteon(chan, a, b)
        elif kind == "off":
            synth.noteoff(chan, a)
        else:
            synth.control_change(chan, a, b)
    if pos < total:
        synth.generate_simple(total - pos, buffer=view[pos * 8:])
    return np.frombuffer(buf, dtype=np.float32).reshape(-1, 2).copy()


def finish(audio: np.ndarray, fade_s: float) -> np.ndarray:
    """Peak-normalise to -3 dBFS, soften the first 5 ms and fade the tail out."""
    peak = float(np.abs(audio).max())
    if peak == 0:
        raise RuntimeError("the midi music backend rendered silence")
    audio = audio * (PEAK / peak)
    n_in, n_out = min(len(audio), int(0.005 * SAMPLE_RATE)), min(len(audio), int(fade_s * SAMPLE_RATE))
    audio[:n_in] *= np.linspace(0, 1, n_in)[:, None]
    if n_out:
        audio[-n_out:] *= (np.cos(np.linspace(0, np.pi, n_out)) * 0.5 + 0.5)[:, None]  # smooth, no click
    return audio


def write_wav(audio: np.ndarray, out: Path) -> None:
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(out), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
