"""Stage 8: mix. Concatenate the shipped clips at the final size, lay the narration at each shot's
start over a ducked music bed, master to the delivery's loudness in two passes, burn the captions
in when asked, and mux one mp4; .srt and .vtt are always written beside it."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import ffmpeg

from reel import prompts
from reel.caching import artifact_digests
from reel.captions import ass, cues, srt, vtt
from reel.delivery import Delivery, loudness_table, narration_table
from reel.fonts import font_for
from reel.loudness import ebur128, loudnorm_pass1, speech_over_bed
from reel.media import decode_mono, ffmpeg_exe, rms_db, run_ffmpeg
from reel.presets import Preset
from reel.records import ReelRef, StageOutput, StageRecord
from reel.stage import stage, timed
from reel.store import ArtifactStore
from tasks.voice import VoiceOutput

SAMPLE_RATE = 48000
# Levels before mastering (RMS of the active signal): the voice sits well above the bed, and
# the bed is ducked further while a line is spoken. Mastering moves both by the same gain.
VOICE_RMS_DB, MUSIC_RMS_DB = -18.0, -28.0


class MixOutput(StageOutput):
    """What the reel was made to, as mixed: its picture, its captions and its measured loudness."""

    size: tuple[int, int]
    aspect: str
    seconds: float
    shots: int
    frames: int
    fps: int
    subtitles: str
    caption_font: dict | None = None  # the font burned captions were drawn with (reel/fonts.py); None: not burned
    loudness: dict[str, Any]  # target, measured integrated and true peak, speech over the bed
    loudness_pass1: dict[str, Any]  # loudnorm's first-pass figures the master used

    def delivery(self) -> dict[str, Any]:
        """The manifest's `delivery`: what the published file was made to (no first-pass figures)."""
        return self.model_dump(mode="json", exclude={"loudness_pass1"}, exclude_none=True)


def _compile(stream, what: str) -> None:
    args = ffmpeg.compile(stream.global_args("-hide_banner", "-nostdin"), cmd=ffmpeg_exe(), overwrite_output=True)
    run_ffmpeg(args[1:], what)


def gain_to(path: Path, target_db: float) -> float:
    """Linear gain that brings a file's active RMS to target_db (capped at +24 dB)."""
    return 10 ** (min(target_db - rms_db(decode_mono(path)), 24.0) / 20)


def premix_audio(music: Path, voices: list[Path], starts: list[float], total: float, out: Path,
                 bed_db: float = MUSIC_RMS_DB, shot_seconds: float | None = None) -> tuple[Path, Path]:
    """Music bed ducked under the narration, each line delayed to its shot's start and faded out
    by its shot's end at the latest (no line runs into the next shot). Writes the mix to `out`
    and its two stems beside it (narration, ducked bed) for measuring."""
    cut = shot_seconds or total
    fade = narration_table()["fade_s"]
    bed = (ffmpeg.input(str(music)).audio
           .filter("aformat", sample_rates=SAMPLE_RATE, channel_layouts="stereo")
           .filter("apad").filter("atrim", duration=total)
           .filter("volume", f"{gain_to(music, bed_db):.6f}")
           .filter("afade", t="out", st=max(total - 2.0, 0), d=2.0))
    lines = [ffmpeg.input(str(v)).audio
             .filter("aformat", sample_rates=SAMPLE_RATE, channel_layouts="stereo")
             .filter("volume", f"{gain_to(v, VOICE_RMS_DB):.4f}")
             .filter("atrim", duration=cut).filter("afade", t="out", st=max(cut - fade, 0), d=fade)
             .filter("adelay", delays=int(s * 1000), all=1)
             for v, s in zip(voices, starts)]
    vo = (ffmpeg.filter(lines, "amix", inputs=len(lines), normalize=0, duration="longest")
          .filter("apad").filter("atrim", duration=total))
    vo_parts = vo.filter_multi_output("asplit", 3)
    ducked = ffmpeg.filter([bed, vo_parts[0]], "sidechaincompress", threshold=0.02, ratio=8, attack=15,
                           release=400, makeup=1).filter_multi_output("asplit", 2)
    mixed = ffmpeg.filter([ducked[0], vo_parts[1]], "amix", inputs=2, normalize=0, duration="first")
    voice_stem, bed_stem = out.with_name("voice_stem.wav"), out.with_name("bed_stem.wav")
    pcm = dict(acodec="pcm_s16le", ar=SAMPLE_RATE)
    _compile(ffmpeg.merge_outputs(ffmpeg.output(mixed, str(out), **pcm),
                                  ffmpeg.output(vo_parts[2], str(voice_stem), **pcm),
                                  ffmpeg.output(ducked[1], str(bed_stem), **pcm)),
             "premixing music and narration")
    return voice_stem, bed_stem


def balanced_premix(music: Path, voices: list[Path], starts: list[float], spoken: list[float], total: float,
                    out: Path, shot_seconds: float) -> dict:
    """Premix, measure the narration against the bed in its speech passages, and lower the bed
    until the narration stands the table's margin (6 LU) over it."""
    need = loudness_table()["speech_over_bed_lu"]
    windows = [(s, s + min(d, shot_seconds)) for s, d in zip(starts, spoken)]
    bed_db = MUSIC_RMS_DB
    for _ in range(3):
        voice_stem, bed_stem = premix_audio(music, voices, starts, total, out, bed_db, shot_seconds)
        measured = speech_over_bed(voice_stem, bed_stem, windows)
        if measured["difference_lu"] >= need + 0.5:
            break
        bed_db -= need + 1.0 - measured["difference_lu"]
    return measured | {"required_lu": need, "bed_rms_db": round(bed_db, 2)}


def burn_captions(picture, script: Path):
    """libass draws the ASS script; shaping=complex is HarfBuzz (Devanagari conjuncts, CJK), and
    fontsdir is the script's folder, where only its one font is linked: libass loads it without
    fontconfig, and prefers it to a system face of the same family name."""
    return picture.filter("ass", filename=str(script), fontsdir=str(script.parent), shaping="complex")


def master_and_mux(clips: list[Path], audio: Path, measured: dict[str, str], size: tuple[int, int], fps: int,
                   total: float, out: Path, target: float, captions: Path | None = None) -> None:
    """Pass 2: scale and concatenate the picture (captions burned in by libass when given),
    normalise the audio to the target with the pass-1 figures, mux H.264 + AAC."""
    w, h = size
    loud = loudness_table()
    videos = [ffmpeg.input(str(c)).video
              .filter("scale", w, h, force_original_aspect_ratio="increase", flags="lanczos")
              .filter("crop", w, h).filter("setsar", 1).filter("fps", fps)
              for c in clips]
    picture = ffmpeg.concat(*videos, n=len(videos), v=1, a=0)
    if captions is not None:
        picture = burn_captions(picture, captions)
    sound = (ffmpeg.input(str(audio)).audio
             .filter("loudnorm", I=target, TP=loud["true_peak_aim_dbtp"], LRA=loud["lra"], linear="true",
                     measured_I=measured["input_i"], measured_TP=measured["input_tp"],
                     measured_LRA=measured["input_lra"], measured_thresh=measured["input_thresh"],
                     offset=measured["target_offset"])
             .filter("aresample", SAMPLE_RATE))
    _compile(ffmpeg.output(picture, sound, str(out), vcodec="libx264", pix_fmt="yuv420p", crf=18,
                           preset="veryfast", acodec="aac", audio_bitrate="192k", ar=SAMPLE_RATE,
                           movflags="+faststart", t=f"{total:.3f}"), "encoding the reel")


def write_captions(store: ArtifactStore, record: StageRecord, voices: list[StageRecord], starts: list[float],
                   preset: Preset, delivery: Delivery, work: Path) -> tuple[Path | None, dict | None]:
    """.srt and .vtt always; the .ass script (with its font beside it) when captions are burned,
    and the record of that font."""
    spoken = [VoiceOutput.of(v) for v in voices]
    items = cues([v.text for v in spoken], starts, [v.seconds for v in spoken], preset.shot_seconds)
    record.artifacts["subtitles"] = store.write_bytes("reel.srt", srt(items).encode())
    record.artifacts["subtitles_vtt"] = store.write_bytes("reel.vtt", vtt(items).encode())
    if delivery.subtitles != "burn":
        return None, None
    lang = spoken[0].lang
    script = work / "captions.ass"
    script.write_text(ass(items, lang, preset.final_size, delivery.aspect), encoding="utf-8")
    font = font_for(lang)
    (work / font.path.name).symlink_to(font.path)
    return script, font.record()


def mix_reel(store: ArtifactStore, clips: list[StageRecord], music: StageRecord, voices: list[StageRecord],
             preset: Preset, delivery: Delivery) -> StageRecord:
    record = timed("mix")
    total = preset.shot_seconds * len(clips)
    starts = [i * preset.shot_seconds for i in range(len(clips))]
    work = store.scratch() / f"mix-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    try:
        return _mix(store, record, work, clips, music, voices, preset, delivery, total, starts)
    finally:  # its premix, captions and master go, whether the mix made it or not
        shutil.rmtree(work, ignore_errors=True)


def _mix(store, record, work, clips, music, voices, preset, delivery, total, starts) -> StageRecord:
    premix = work / "premix.wav"
    balance = balanced_premix(store.local_path(music.artifact()), [store.local_path(v.artifact()) for v in voices],
                              starts, [VoiceOutput.of(v).seconds for v in voices], total, premix,
                              preset.shot_seconds)
    measured = loudnorm_pass1(premix, delivery.target_lufs, loudness_table()["true_peak_aim_dbtp"],
                              loudness_table()["lra"])
    captions, font = write_captions(store, record, voices, starts, preset, delivery, work)
    out = work / "reel.mp4"
    master_and_mux([store.local_path(c.artifact()) for c in clips], premix, measured, preset.final_size,
                   preset.fps, total, out, delivery.target_lufs, captions)
    final = ebur128(out)
    record.artifacts["main"] = store.put_file("reel.mp4", out)
    record.backend, record.model_id = "ffmpeg", "imageio-ffmpeg"
    record.meta = MixOutput(seconds=total, shots=len(clips), frames=preset.frames, fps=preset.fps,
                            size=preset.final_size, aspect=delivery.aspect, subtitles=delivery.subtitles,
                            caption_font=font, loudness_pass1=measured,
                            loudness={"target": delivery.loudness, "target_lufs": delivery.target_lufs,
                                      "true_peak_ceiling_dbtp": loudness_table()["true_peak_dbtp"],
                                      "integrated_lufs": final["integrated_lufs"],
                                      "true_peak_dbtp": final["true_peak_dbtp"], "speech_over_bed": balance}).meta()
    return record.finish()


def _key(ref, clips, music, voices, preset, delivery):
    return {"clips": artifact_digests(*clips), "music": artifact_digests(music), "voices": artifact_digests(*voices),
            "size": preset.final_size, "fps": preset.fps, "shot_seconds": preset.shot_seconds,
            "delivery": delivery.model_dump(), "table": prompts.digest("delivery.json"),
            "levels": [VOICE_RMS_DB, MUSIC_RMS_DB],
            "font": font_for(VoiceOutput.of(voices[0]).lang).record() if delivery.subtitles == "burn" and voices else None}


@stage("mix", version="2", key_parts=_key, task_run_name="mix")
def mix_stage(ref: ReelRef, clips: list[StageRecord], music: StageRecord, voices: list[StageRecord],
              preset: Preset, delivery: Delivery) -> StageRecord:
    return mix_reel(ref.store(), clips, music, voices, preset, delivery)
