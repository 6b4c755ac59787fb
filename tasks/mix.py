"""Stage 8: mix. Concatenate the shipped clips, scale to the final size, lay the narration at
each shot's start over a ducked music bed, master to -18 LUFS in two passes, and mux one mp4."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import ffmpeg

from reel.caching import artifact_digests
from reel.media import decode_mono, ffmpeg_exe, rms_db, run_ffmpeg
from reel.presets import Preset
from reel.records import ReelRef, StageRecord
from reel.stage import stage, timed
from reel.store import ArtifactStore

TARGET_LUFS, TRUE_PEAK, LRA = -18.0, -1.5, 11.0
SAMPLE_RATE = 48000
# Levels before mastering (RMS of the active signal): the voice sits well above the bed, and
# the bed is ducked further while a line is spoken.
VOICE_RMS_DB, MUSIC_RMS_DB = -18.0, -28.0


def _compile(stream, what: str) -> None:
    args = ffmpeg.compile(stream.global_args("-hide_banner", "-nostdin"), cmd=ffmpeg_exe(), overwrite_output=True)
    run_ffmpeg(args[1:], what)


def gain_to(path: Path, target_db: float) -> float:
    """Linear gain that brings a file's active RMS to target_db (capped at +24 dB)."""
    return 10 ** (min(target_db - rms_db(decode_mono(path)), 24.0) / 20)


def premix_audio(music: Path, voices: list[Path], starts: list[float], total: float, out: Path) -> None:
    """Music bed ducked under the narration, each line delayed to its shot's start."""
    bed = (ffmpeg.input(str(music)).audio
           .filter("aformat", sample_rates=SAMPLE_RATE, channel_layouts="stereo")
           .filter("apad").filter("atrim", duration=total)
           .filter("volume", f"{gain_to(music, MUSIC_RMS_DB):.4f}")
           .filter("afade", t="out", st=max(total - 2.0, 0), d=2.0))
    lines = [ffmpeg.input(str(v)).audio
             .filter("aformat", sample_rates=SAMPLE_RATE, channel_layouts="stereo")
             .filter("volume", f"{gain_to(v, VOICE_RMS_DB):.4f}")
             .filter("adelay", delays=int(s * 1000), all=1)
             for v, s in zip(voices, starts)]
    vo = (ffmpeg.filter(lines, "amix", inputs=len(lines), normalize=0, duration="longest")
          .filter("apad").filter("atrim", duration=total))
    vo_parts = vo.filter_multi_output("asplit", 2)
    ducked = ffmpeg.filter([bed, vo_parts[0]], "sidechaincompress", threshold=0.02, ratio=8, attack=15,
                           release=400, makeup=1)
    mixed = ffmpeg.filter([ducked, vo_parts[1]], "amix", inputs=2, normalize=0, duration="first")
    _compile(ffmpeg.output(mixed, str(out), acodec="pcm_s16le", ar=SAMPLE_RATE), "premixing music and narration")


def measure_loudness(audio: Path) -> dict[str, str]:
    """Pass 1 of loudnorm: measure integrated loudness, range, true peak and threshold."""
    log = run_ffmpeg(["-i", str(audio), "-af",
                      f"loudnorm=I={TARGET_LUFS}:TP={TRUE_PEAK}:LRA={LRA}:print_format=json", "-f", "null", "-"],
                     "measuring loudness")
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", log, re.S)
    if not match:
        raise RuntimeError("loudnorm printed no measurement")
    return json.loads(match.group(0))


def master_and_mux(clips: list[Path], audio: Path, measured: dict[str, str], size: tuple[int, int], fps: int,
                   total: float, out: Path) -> None:
    """Pass 2: scale and concatenate the picture, normalise the audio linearly, mux H.264 + AAC."""
    w, h = size
    videos = [ffmpeg.input(str(c)).video
              .filter("scale", w, h, force_original_aspect_ratio="increase", flags="lanczos")
              .filter("crop", w, h).filter("setsar", 1).filter("fps", fps)
              for c in clips]
    picture = ffmpeg.concat(*videos, n=len(videos), v=1, a=0)
    sound = (ffmpeg.input(str(audio)).audio
             .filter("loudnorm", I=TARGET_LUFS, TP=TRUE_PEAK, LRA=LRA, linear="true",
                     measured_I=measured["input_i"], measured_TP=measured["input_tp"],
                     measured_LRA=measured["input_lra"], measured_thresh=measured["input_thresh"],
                     offset=measured["target_offset"])
             .filter("aresample", SAMPLE_RATE))
    _compile(ffmpeg.output(picture, sound, str(out), vcodec="libx264", pix_fmt="yuv420p", crf=18,
                           preset="veryfast", acodec="aac", audio_bitrate="192k", ar=SAMPLE_RATE,
                           movflags="+faststart", t=f"{total:.3f}"), "encoding the reel")


def subtitles(lines: list[str], starts: list[float], lengths: list[float]) -> str:
    def ts(t: float) -> str:
        ms = int(round(t * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    return "".join(f"{i + 1}\n{ts(s)} --> {ts(s + max(d, 1.0))}\n{line}\n\n"
                   for i, (line, s, d) in enumerate(zip(lines, starts, lengths)))


def mix_reel(store: ArtifactStore, clips: list[StageRecord], music: StageRecord, voices: list[StageRecord],
             preset: Preset) -> StageRecord:
    record = timed("mix")
    total = preset.shot_seconds * len(clips)
    starts = [i * preset.shot_seconds for i in range(len(clips))]
    work = store.scratch() / f"mix-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    premix = work / "premix.wav"
    premix_audio(store.local_path(music.artifact()), [store.local_path(v.artifact()) for v in voices], starts,
                 total, premix)
    measured = measure_loudness(premix)
    out = work / "reel.mp4"
    master_and_mux([store.local_path(c.artifact()) for c in clips], premix, measured, preset.final_size,
                   preset.fps, total, out)
    record.artifacts["main"] = store.put_file("reel.mp4", out)
    srt = subtitles([v.meta["text"] for v in voices], starts, [v.meta["seconds"] for v in voices])
    record.artifacts["subtitles"] = store.write_bytes("reel.srt", srt.encode())
    record.backend, record.model_id = "ffmpeg", "imageio-ffmpeg"
    record.meta = {"seconds": total, "loudness_pass1": measured}
    for f in work.iterdir():
        f.unlink()
    work.rmdir()
    return record.finish()


def _key(ref, clips, music, voices, preset):
    return {"clips": artifact_digests(*clips), "music": artifact_digests(music), "voices": artifact_digests(*voices),
            "size": preset.final_size, "fps": preset.fps, "shot_seconds": preset.shot_seconds,
            "target": [TARGET_LUFS, TRUE_PEAK, LRA, VOICE_RMS_DB, MUSIC_RMS_DB]}


@stage("mix", version="1", key_parts=_key, task_run_name="mix")
def mix_stage(ref: ReelRef, clips: list[StageRecord], music: StageRecord, voices: list[StageRecord],
              preset: Preset) -> StageRecord:
    return mix_reel(ref.store(), clips, music, voices, preset)
