"""What people publish: platform loudness, captions burned in or beside the reel. The mix runs on
real inputs (espeak narration, General MIDI music, ffmpeg clips) with real ffmpeg and libass."""

from __future__ import annotations

import numpy as np
import pytest
import ffmpeg
from PIL import Image

from models.cpu.espeak_voice import EspeakVoice
from models.cpu.midi_music import MidiMusic
from reel.captions import ass, cues, split_lines, srt, vtt
from reel.fonts import font_for
from reel.delivery import delivery_for, loudness_table, subtitle_table
from reel.errors import UserError
from reel.media import ffmpeg_exe, probe, run_ffmpeg
from reel.presets import ASPECTS, for_aspect, get_preset, with_length
from reel.records import StageRecord
from reel.store import ArtifactStore
from tasks.mix import burn_captions, mix_reel, premix_audio
from tests.media_checks import decode_audio, integrated_loudness, loudness_by_pyloudnorm, rms_db

LINES = ["Rain falls.", "Then, goodbye."]
# 2 s shots at a small final size: the same filters as a full reel, a fraction of the encode.
SIZES = {"16:9": (384, 216), "9:16": (216, 384)}


def _preset(aspect: str):
    # 2 s asked: the nearest valid clip at 16 fps is 33 frames (4k+1).
    return with_length(for_aspect(get_preset("preview"), aspect), 2, shot_seconds=2.0).model_copy(
        update={"final_size": SIZES[aspect]})


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("mix-inputs")
    seconds = 2 * 33 / 16
    MidiMusic().compose("driving synth bass and electric guitar, 118 BPM, energetic, with drums", seconds, 3,
                        d / "music.wav")
    voice = EspeakVoice()
    spoken = [voice.speak(line, "b", d / f"vo{i}.wav") for i, line in enumerate(LINES)]
    for i in range(2):
        run_ffmpeg(["-f", "lavfi", "-i", f"color=c=0x336699:size=320x192:rate=16:duration={33 / 16}",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(d / f"clip{i}.mp4")], "making a test clip")
    return d, spoken


def _mix(inputs, tmp_path, aspect, loudness=None, subtitles=None):
    d, spoken = inputs
    store = ArtifactStore(str(tmp_path / "out"), f"mix-{aspect.replace(':', 'x')}-{loudness}-{subtitles}")

    def record(stage, rel, src, **meta):
        r = StageRecord(stage=stage, meta=meta)
        r.artifacts["main"] = store.put_file(rel, src)
        return r

    clips = [record("render", f"clips/clip_{i}.mp4", d / f"clip{i}.mp4") for i in range(2)]
    voices = [record("voice", f"vo/vo_{i:02d}.wav", d / f"vo{i}.wav", text=LINES[i], lang="b", seconds=spoken[i],
                     natural_seconds=spoken[i], tempo=1.0, max_seconds=spoken[i] + 1.0, take=0, fits=True)
              for i in range(2)]
    music = record("music", "music.wav", d / "music.wav")
    delivery = delivery_for(aspect, loudness, subtitles)
    result = mix_reel(store, clips, music, voices, _preset(aspect), delivery)
    return result, store.local_path(result.artifact()).parent


def _frame(mp4, t: float) -> np.ndarray:
    out, _ = (ffmpeg.input(str(mp4), ss=t).output("pipe:", vframes=1, format="rawvideo", pix_fmt="gray")
              .run(cmd=ffmpeg_exe(), capture_stdout=True, quiet=True))
    w, h = probe(mp4).width, probe(mp4).height
    return np.frombuffer(out, np.uint8).reshape(h, w).astype(int)


def test_the_bed_ducks_under_each_line_and_fades_out_with_the_picture(inputs, tmp_path):
    """The premix on a steady bed (pink noise: any change in its level is the mix's doing), measured
    on the ducked bed stem: lower while a line is spoken than between lines, and faded at the end.
    (The General MIDI score ends quietly by itself and the bed is lowered until the narration stands
    6 LU over it anyway, so the reel's own checks cannot tell whether either happened.)"""
    d, spoken = inputs
    shot, rate = 33 / 16, 16000
    total = 2 * shot
    music = tmp_path / "steady.wav"
    run_ffmpeg(["-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.3:duration={total + 1}:sample_rate=48000",
                str(music)], "making a steady bed")
    starts = [0.0, shot]
    _, bed_stem = premix_audio(music, [d / "vo0.wav", d / "vo1.wav"], starts, total, tmp_path / "premix.wav",
                               shot_seconds=shot)
    bed = decode_audio(bed_stem, rate)

    def level(a: float, b: float) -> float:
        return rms_db(bed[int(a * rate):int(b * rate)])

    speaking = [level(s + 0.1, s + min(n, shot) - 0.05) for s, n in zip(starts, spoken)]
    between = level(spoken[0] + 0.5, shot - 0.05)  # after the compressor's 400 ms release
    ending = level(total - 0.1, total)
    print(f"bed: {speaking} dB while speaking, {between:.1f} dB between lines, {ending:.1f} dB in the last 0.1 s")
    assert spoken[0] + 0.5 < shot - 0.3, spoken  # a gap to measure
    assert max(speaking) < between - 6
    assert ending < between - 10


@pytest.mark.parametrize("loudness,target", [(None, -14.0), ("broadcast", -23.0)])
def test_vertical_reel_meets_its_platform_loudness_with_narration_over_the_bed(inputs, tmp_path, loudness, target):
    result, folder = _mix(inputs, tmp_path, "9:16", loudness=loudness, subtitles="srt")
    measured = integrated_loudness(folder / "reel.mp4")
    loud = result.meta["loudness"]
    print(f"target {target} LUFS: measured {measured} LUFS, true peak {loud['true_peak_dbtp']} dBTP, "
          f"speech over bed {loud['speech_over_bed']['difference_lu']} LU")
    assert abs(measured - target) <= 1.0
    assert loud["target_lufs"] == target and abs(loud["integrated_lufs"] - measured) <= 0.2
    # The final reel measured apart from the mixer and from ffmpeg's meters: pyloudnorm's BS.1770
    # loudness and the 4x-oversampled true peak, under the table's ceiling, and what the mix reports.
    lufs, peak = loudness_by_pyloudnorm(folder / "reel.mp4")
    print(f"pyloudnorm: {lufs:.2f} LUFS, 4x-oversampled true peak {peak:.2f} dBTP")
    assert abs(lufs - target) <= 1.0
    assert peak <= loudness_table()["true_peak_dbtp"] + 0.1
    assert abs(loud["true_peak_dbtp"] - peak) <= 0.5, (loud["true_peak_dbtp"], peak)
    assert loud["speech_over_bed"]["difference_lu"] >= 6.0
    # Length: two shots of 33 frames at 16 fps, and the music fades out with the picture.
    assert abs(probe(folder / "reel.mp4").duration - 2 * 33 / 16) <= 0.1
    assert (result.meta["frames"], result.meta["shots"]) == (33, 2)
    audio = decode_audio(folder / "reel.mp4")
    assert rms_db(audio[-1600:]) < rms_db(audio[-16000:-8000]) - 10, "the music stops hard at the end"


def _silent_inputs(inputs, folder, music_too: bool):
    """The test clips, narration that speaks nothing (espeak given "...", as a weak director writes
    it), and the test music or silence."""
    d, spoken = inputs
    folder.mkdir()
    silent = [("vo0.wav", spoken[0]), ("vo1.wav", spoken[1])] + ([("music.wav", 5.0)] if music_too else [])
    for name, seconds in silent:
        run_ffmpeg(["-f", "lavfi", "-i", f"anullsrc=r=24000:cl=mono:d={seconds}", str(folder / name)],
                   "making a silent track")
    for name in ["clip0.mp4", "clip1.mp4"] + ([] if music_too else ["music.wav"]):
        (folder / name).symlink_to(d / name)
    return folder, spoken


def test_silent_narration_leaves_the_music_at_the_delivery_loudness(inputs, tmp_path):
    """Nothing spoken: the bed is not lowered to stand under it (it was lowered by the measured gap,
    three times, to digital silence), and the reel meets its target."""
    result, folder = _mix(_silent_inputs(inputs, tmp_path / "quiet", music_too=False), tmp_path, "16:9",
                          subtitles="srt")
    balance = result.meta["loudness"]["speech_over_bed"]
    print("silent narration: bed", balance["bed_rms_db"], "dB; reel", result.meta["loudness"]["integrated_lufs"], "LUFS")
    assert balance["speech_lufs"] <= -70.0 and balance["bed_rms_db"] == -28.0
    assert abs(integrated_loudness(folder / "reel.mp4") - result.meta["loudness"]["target_lufs"]) <= 1.0
    assert "warning" not in result.meta


def test_a_silent_premix_is_mixed_without_normalising_and_the_manifest_says_so(inputs, tmp_path):
    """Silent music and silent narration: loudnorm's pass 1 measures -inf LUFS, which its pass 2
    refuses as measured_I. The reel is still made, its audio left silent, and the mix record
    carries the one warning the manifest shows."""
    result, folder = _mix(_silent_inputs(inputs, tmp_path / "silent", music_too=True), tmp_path, "16:9",
                          subtitles="srt")
    print("mix warning:", result.meta.get("warning"), "pass 1:", result.meta["loudness_pass1"]["input_i"])
    assert result.meta["loudness_pass1"]["input_i"] == "-inf"
    assert "audio is silent" in result.meta["warning"] and "not normalised" in result.meta["warning"]
    assert probe(folder / "reel.mp4").duration > 4.0
    assert result.meta["loudness"]["integrated_lufs"] <= -70.0


def test_burned_captions_sit_in_the_safe_area_and_srt_vtt_follow_the_narration(inputs, tmp_path):
    _, spoken = inputs
    burned, folder = _mix(inputs, tmp_path, "9:16")  # vertical default: burn
    plain, plain_folder = _mix(inputs, tmp_path, "9:16", subtitles="srt")
    assert burned.meta["subtitles"] == "burn" and plain.meta["subtitles"] == "srt"
    w, h = SIZES["9:16"]
    safe = subtitle_table()["safe_area"]["9:16"]
    diff = np.abs(_frame(folder / "reel.mp4", 0.5) - _frame(plain_folder / "reel.mp4", 0.5)) > 40
    rows, cols = np.nonzero(diff)
    assert rows.size > 200, "no caption drawn"
    assert rows.max() <= h * (1 - safe["bottom"]) + 2 and rows.min() > h / 2
    assert cols.min() >= w * safe["sides"] - 2 and cols.max() <= w * (1 - safe["sides"]) + 2
    # After the line is spoken the caption is gone.
    late = np.abs(_frame(folder / "reel.mp4", spoken[0] + 0.3) - _frame(plain_folder / "reel.mp4", spoken[0] + 0.3))
    assert (late > 40).sum() < 20
    shot = 33 / 16
    text = (folder / "reel.srt").read_text()
    assert spoken[0] + 0.3 < shot
    assert f"00:00:00,000 --> 00:00:0{max(spoken[0], 1.0):.3f}".replace(".", ",") in text
    vtt_text = (folder / "reel.vtt").read_text()
    assert vtt_text.startswith("WEBVTT") and LINES[1] in vtt_text


def test_cues_never_run_into_the_next_shot():
    items = cues(["one", "two"], [0.0, 2.0], [3.5, 0.4], shot_seconds=2.0)
    assert [(c.start, c.end) for c in items] == [(0.0, 2.0), (2.0, 3.0)]  # capped; at least 1 s shown
    assert "00:00:02,000 --> 00:00:03,000" in srt(items) and "00:00:02.000 --> 00:00:03.000" in vtt(items)


def test_long_line_splits_at_the_phrase_boundary_into_two_lines():
    width = lambda s: 10.0 * len(s)  # noqa: E731 - a monospace measure keeps the expectation readable
    text = "After the storm, the harbour lights come back one by one"
    assert split_lines(text, width, 400) == ["After the storm,", "the harbour lights come back one by one"]
    assert split_lines("short line", width, 400) == ["short line"]
    assert split_lines(text, width, 100) is None  # even two lines do not fit: the caller shrinks the font


NARRATION = {
    "a": "She walks alone through the city at dusk.", "b": "The rain follows her down the empty street.",
    "e": "Ella camina sola por la ciudad al anochecer.", "f": "Elle marche seule dans la ville au crépuscule.",
    "h": "दिन ढले वह अकेली स्टेशन से निकलती है", "i": "Lei cammina da sola nella città al tramonto.",
    "j": "彼女は夜の街を一人で歩いた", "p": "Ela caminha sozinha pela cidade ao anoitecer.", "z": "她独自走过夜晚的城市",
}


@pytest.mark.parametrize("lang", sorted(NARRATION))
def test_captions_render_in_every_narration_language_within_two_lines(tmp_path, lang):
    w, h = SIZES["9:16"]
    script = tmp_path / "captions.ass"
    script.write_text(ass(cues([NARRATION[lang]], [0.0], [2.0], 2.0), lang, (w, h), "9:16"), encoding="utf-8")
    font = font_for(lang)
    (tmp_path / font.path.name).symlink_to(font.path)
    dialogue = [line for line in script.read_text().splitlines() if line.startswith("Dialogue:")][0]
    assert dialogue.count("\\N") <= 1
    out = tmp_path / "frame.png"
    picture = burn_captions(ffmpeg.input(f"color=c=gray:s={w}x{h}:d=1", f="lavfi").video, script)
    picture.output(str(out), vframes=1).overwrite_output().run(cmd=ffmpeg_exe(), quiet=True)
    ink = np.asarray(Image.open(out).convert("L")).astype(int)
    assert (np.abs(ink - 128) > 60).sum() > 150, f"no caption drawn for {lang}"
    if lang == "h":
        # Devanagari needs HarfBuzz: the same script drawn without complex shaping looks different
        # (the conjunct in स्टेशन, the vowel sign of िन drawn before its consonant).
        simple = tmp_path / "simple.png"
        (ffmpeg.input(f"color=c=gray:s={w}x{h}:d=1", f="lavfi").video
         .filter("ass", filename=str(script), fontsdir=str(tmp_path), shaping="simple")
         .output(str(simple), vframes=1).overwrite_output().run(cmd=ffmpeg_exe(), quiet=True))
        assert (np.abs(np.asarray(Image.open(simple).convert("L")).astype(int) - ink) > 60).sum() > 50


def test_delivery_defaults_and_bad_choices():
    assert (delivery_for("9:16").loudness, delivery_for("9:16").subtitles) == ("web", "burn")
    assert (delivery_for("16:9").target_lufs, delivery_for("16:9").subtitles) == (-18.0, "srt")
    assert delivery_for("16:9", "podcast").target_lufs == -16.0
    assert delivery_for("16:9", "-20").target_lufs == -20.0
    with pytest.raises(UserError, match="unknown loudness 'loud'"):
        delivery_for("16:9", "loud")
    with pytest.raises(UserError, match="out of range"):
        delivery_for("16:9", "-3")
    with pytest.raises(UserError, match="unknown subtitles mode"):
        delivery_for("16:9", None, "karaoke")


def test_length_snaps_to_the_nearest_valid_clip_and_bad_lengths_are_user_errors():
    preview = get_preset("preview")  # 16 fps
    assert with_length(preview, 6).frames == 81  # unset: the preset's own
    assert with_length(preview, 6, seconds=30.0).frames == 81  # 5 s a shot -> 81 frames (5.06 s)
    assert with_length(preview, 4, seconds=12.0).frames == 49  # 3 s -> 49 frames (3.06 s)
    assert with_length(preview, 6, shot_seconds=2.5).frames == 41
    for frames in (with_length(preview, n, seconds=s).frames for n in (1, 5, 12) for s in (8.0, 20.0, 45.0)
                   if 17 <= s / n * 16 <= 161):
        assert frames % 4 == 1
    with pytest.raises(UserError, match="not both"):
        with_length(preview, 6, seconds=30.0, shot_seconds=5.0)
    with pytest.raises(UserError, match="outside what preset 'preview' can render"):
        with_length(preview, 1, seconds=60.0)
    with pytest.raises(UserError, match="positive"):
        with_length(preview, 6, shot_seconds=0)


def test_every_aspect_has_its_own_shape_at_multiples_of_16():
    for name in ("default", "preview"):
        for aspect, (rw, rh) in ASPECTS.items():
            preset = for_aspect(get_preset(name), aspect)
            for w, h in (preset.render_size, preset.master_size, preset.final_size):
                assert w % 16 == 0 and h % 16 == 0
                assert abs(w / h - rw / rh) / (rw / rh) < 0.03, (name, aspect, w, h)
    assert for_aspect(get_preset("preview"), "9:16").final_size == (704, 1280)
    with pytest.raises(UserError, match="unknown aspect '2:1'"):
        for_aspect(get_preset("preview"), "2:1")


@pytest.mark.usefixtures("prefect_server")
def test_square_reel_from_the_command_line_is_composed_timed_captioned_and_recorded(tmp_path):
    """One real `reel make`: 1:1 at its own size, 2 shots of the asked length, captions burned,
    web loudness, and the manifest saying so."""
    import json
    from importlib import metadata

    from tests.helpers import fontconfig_file, reel_cli

    root = tmp_path / "out"
    proc = reel_cli("make", "A fisherman mends his nets on a quiet harbour at dawn", "--preset", "preview",
                    "--aspect", "1:1", "--shots", "2", "--seconds", "6", "--out", str(root),
                    env={"FONTCONFIG_FILE": str(fontconfig_file(tmp_path / "fc"))})  # no system fonts
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 shots of 3.06 s (49 frames at 16 fps) = 6.12 s" in proc.stdout
    (reel_dir,) = [p for p in root.iterdir() if p.is_dir()]
    info = probe(reel_dir / "reel.mp4")
    assert (info.width, info.height) == (944, 944)
    assert abs(info.duration - 2 * 49 / 16) <= 0.1
    assert abs(integrated_loudness(reel_dir / "reel.mp4") - (-14.0)) <= 1.0
    lufs, peak = loudness_by_pyloudnorm(reel_dir / "reel.mp4")  # apart from the mixer and ffmpeg's meters
    assert abs(lufs - (-14.0)) <= 1.0 and peak <= loudness_table()["true_peak_dbtp"] + 0.1, (lufs, peak)
    keyframe = Image.open(reel_dir / "keyframes" / "keyframe_0.png")
    assert keyframe.size == (624, 624)  # painted square at the render size, not cropped from 16:9
    delivery = json.loads((reel_dir / "manifest.json").read_text())["delivery"]
    assert delivery["size"] == [944, 944] and delivery["aspect"] == "1:1" and delivery["subtitles"] == "burn"
    assert delivery["caption_font"] == {"family": "Noto Sans", "file": "NotoSans[wdth,wght].ttf", "index": 0,
                                        "source": f"fontpkg-noto-sans {metadata.version('fontpkg-noto-sans')}"}
    assert delivery["loudness"]["target"] == "web" and delivery["loudness"]["speech_over_bed"]["difference_lu"] >= 6
    assert abs(delivery["loudness"]["true_peak_dbtp"] - peak) <= 0.5, (delivery["loudness"], peak)
    assert [n["fit"] in ("fits", "faster", "shortened", "too_long") for n in delivery["narration"]] == [True, True]
    assert all(n["seconds"] <= 49 / 16 - 0.3 or n["fit"] == "too_long" for n in delivery["narration"])
    assert (reel_dir / "reel.srt").exists() and (reel_dir / "reel.vtt").exists()
    # The estimate was published before any model ran, and the manifest sets the actual beside it.
    manifest = json.loads((reel_dir / "manifest.json").read_text())
    assert manifest["estimate"]["label"] == "estimate" and manifest["estimate"]["shots"] == 2
    assert manifest["actual"]["label"] == "measured" and manifest["actual"]["wall_minutes"] > 0
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.publish import artifact_key

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[artifact_key(reel_dir.name, "estimate")])))
    assert arts and "Estimate: 2 shots of 3.06 s" in arts[0].data
