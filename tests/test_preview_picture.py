"""The CPU preview picture backends: drawn masters/keyframes and camera-move clips.

Pixel checks stand in for eyes: bible colours must be present, a character must look the same
in every shot, night must be darker than noon, and each camera verb must produce the global
motion it names (measured with OpenCV, the way the preview critic measures it).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from models.cpu.director import time_of_day
from models.cpu.painter import CAPTION_KEY, AnimaticImage, camera_phrase, look_of
from models.cpu.camera_move import CameraMoveVideo
from reel.media import ffmpeg_exe, probe
from reel.schema import Plan, RenderKnobs, short_reference

MARA = ("Mara, a tall woman in her thirties with short jet-black hair, wearing a mustard yellow raincoat over a navy "
        "sweater, charcoal trousers and red sneakers, silver hoop earrings, calm focused eyes, a battered leather camera "
        "bag across her shoulder, walking with long determined strides through the rain")
THEO = ("Theo, a stocky older man with silver hair and a trimmed beard, wearing a teal wool coat, an olive scarf, "
        "dark grey trousers and brown boots, round glasses, a folded newspaper under his arm, moving slowly with a "
        "slight limp and a warm crinkled smile")
MUSTARD, TEAL = (214, 168, 30), (20, 128, 128)
A, B = short_reference(MARA), short_reference(THEO)


def make_plan(place: str = "a rainy city street at noon") -> Plan:
    def prompt(camera: str, action: str) -> str:
        return f"{camera} on {place}. {action} Nobody else enters the frame. Shot on a 35mm lens."

    shots = [
        ("wide", "scene", True, prompt("Slow dolly in", f"{A} walks while {B} waits.")),
        ("medium", "A", True, prompt("Pan left", f"{A} crosses the road.")),
        ("insert", "B", True, prompt("Static camera", f"{B} folds the newspaper.")),
        ("medium wide", "A", False, prompt("Tracking shot", f"{A} runs toward {B} now.")),
        ("medium close-up", "B", True, prompt("Static camera", f"{B} smiles slowly.")),
        ("wide", "scene", True, prompt("Tilt up", f"{A} and {B} walk away together.")),
    ]
    return Plan(
        characters={"A": MARA, "B": THEO},
        story_logline=f"Two strangers share an umbrella on {place}.",
        shots=[dict(index=i, is_hero=i == 0, shot_type=t, dominant_subject=d, cut=c, prompt=p)
               for i, (t, d, c, p) in enumerate(shots)],
        music_style="solo piano, 80 BPM, warm and hopeful",
        vo_script_per_shot=["The rain had not stopped all morning long."] * 6,
        vo_lang="a",
    )


def rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


def share_near(img: np.ndarray, colour: tuple[int, int, int], tol: int = 14) -> float:
    """Fraction of pixels within `tol` (per channel) of `colour`."""
    return float(np.all(np.abs(img - np.array(colour)) <= tol, axis=-1).mean())


def luma(img: np.ndarray) -> np.ndarray:
    return img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114


# --------------------------------------------------------------------------------------- images


def test_look_is_read_from_the_portrait():
    mara, theo = look_of("A", MARA), look_of("B", THEO)
    assert (mara.name, mara.main, mara.secondary) == ("Mara", MUSTARD, (26, 36, 84))
    assert mara.named["hair"] == "jet-black" and mara.named["legs"] == "charcoal" and mara.named["shoes"] == "red"
    assert (theo.main, theo.named["hair"], theo.named["scarf"]) == (TEAL, "silver", "olive")
    assert theo.beard and theo.glasses and theo.width > 1 and not mara.beard
    assert look_of("A", MARA) == mara  # deterministic: no random state
    # The label is the character's name however the portrait opens, its key only when it has none.
    assert look_of("A", "Jesse the fisherman (71-year-old slim man, cobalt oilskin jacket)").name == "Jesse"
    assert look_of("B", "An 11-year-old girl in an olive jacket, called Hannah by everyone").name == "Hannah"
    assert look_of("C", "The old lighthouse keeper (70, grey beard)").name == "C"


@pytest.mark.parametrize("subject", ["A", "B", "group", "scene"])
def test_master_size_and_bible_colours(tmp_path, subject):
    out = tmp_path / f"master_{subject}.png"
    AnimaticImage().master(make_plan(), subject, seed=3, size=(320, 176), out=out)
    img = rgb(out)
    assert img.shape == (176, 320, 3)
    mustard, teal = share_near(img, MUSTARD), share_near(img, TEAL)
    if subject == "A":
        assert mustard > 0.02 and teal < 0.001
    elif subject == "B":
        assert teal > 0.02 and mustard < 0.001
    elif subject == "group":
        assert mustard > 0.005 and teal > 0.005
    else:  # the scene plate has no characters, but it is not a blank frame
        assert mustard < 0.001 and teal < 0.001 and img.std() > 10


def test_unknown_master_subject_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not a character key"):
        AnimaticImage().master(make_plan(), "Z", 0, (64, 36), tmp_path / "x.png")


def test_same_character_same_look_across_keyframes(tmp_path):
    plan, model = make_plan(), AnimaticImage()
    paths = {}
    for i in (1, 3):  # 1: medium on Mara alone; 3: medium wide with Mara and Theo
        paths[i] = tmp_path / f"keyframe_{i}.png"
        model.keyframe(plan, plan.shots[i], [], seed=i, size=(320, 184), out=paths[i])
    one, three = rgb(paths[1]), rgb(paths[3])
    assert one.shape == (184, 320, 3)
    assert share_near(one, MUSTARD) > 0.02 and share_near(three, MUSTARD) > 0.01
    assert share_near(one, TEAL) < 0.001 < share_near(three, TEAL)  # Theo only where he is in the shot


def test_a_childs_close_up_shows_the_face(tmp_path):
    """A close framing is of the face: a child (drawn shorter) is framed like an adult, not cut off
    at the forehead by the bottom of the frame."""
    child = ("Lily, a small 8-year-old girl with short jet-black hair, wearing a mustard yellow raincoat over a navy "
             "sweater, charcoal trousers and red sneakers")
    plan = make_plan().model_copy(update={"characters": {"A": child, "B": THEO}})
    model = AnimaticImage()
    assert model.looks(plan)["A"].height < 0.8  # drawn as a child
    for shot_type in ("medium close-up", "medium"):
        shot = plan.shots[4].model_copy(update={"dominant_subject": "A", "shot_type": shot_type,
                                                "prompt": plan.shots[4].prompt.replace(B, short_reference(child))})
        model.keyframe(plan, shot, [], seed=1, size=(320, 184), out=tmp_path / "frame.png")
        coat = np.all(np.abs(rgb(tmp_path / "frame.png") - np.array(MUSTARD)) <= 14, axis=-1)
        # Shoulders in the middle of the frame, as in an adult's framing (the head above them).
        assert coat.any() and np.where(coat.any(axis=1))[0].min() < 184 * 0.6, shot_type


def test_keyframe_is_deterministic_and_captioned(tmp_path):
    plan, model = make_plan(), AnimaticImage()
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for out in (a, b):
        model.keyframe(plan, plan.shots[0], [], seed=7, size=(256, 144), out=out)
    assert np.array_equal(rgb(a), rgb(b))
    strip = int(Image.open(a).info[CAPTION_KEY])
    assert 10 <= strip < 144 // 4
    assert luma(rgb(a)[-strip:]).mean() < luma(rgb(a)[-2 * strip:-strip]).mean() - 20  # dark caption strip
    assert camera_phrase(plan.shots[0].prompt) == "slow dolly in"


def test_night_sky_is_darker_than_noon(tmp_path):
    model = AnimaticImage()
    sky = {}
    for when in ("noon", "night"):
        plan = make_plan(f"a quiet harbour pier at {when}")
        assert time_of_day(plan.shots[0].prompt) == when
        out = tmp_path / f"{when}.png"
        model.keyframe(plan, plan.shots[0], [], seed=1, size=(256, 144), out=out)
        sky[when] = luma(rgb(out)[:50]).mean()
    assert sky["noon"] > 2 * sky["night"] + 40


# --------------------------------------------------------------------------------------- clips


def knobs(prompt: str, seed: int = 1, frames: int = 17, size: tuple[int, int] = (256, 144)) -> RenderKnobs:
    return RenderKnobs(seed=seed, prompt=prompt, negative_prompt="", frames=frames, fps=16, width=size[0],
                       height=size[1], steps=0, flow_shift=8.0, guidance=3.5, guidance_2=3.0)


def decode(clip: Path, w: int, h: int) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(clip), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


@pytest.fixture(scope="module")
def texture(tmp_path_factory) -> Path:
    """A keyframe with detail at every scale, so motion measurements are unambiguous."""
    rng = np.random.default_rng(0)
    img = sum(cv2.resize(rng.random((144 // k, 256 // k, 3)).astype(np.float32), (512, 288),
                         interpolation=cv2.INTER_CUBIC) for k in (4, 16))
    path = tmp_path_factory.mktemp("kf") / "texture.png"
    Image.fromarray(np.clip(img * 127, 0, 255).astype(np.uint8)).save(path)
    return path


def render(tmp_path: Path, keyframe: Path, k: RenderKnobs, end: Path | None = None, name: str = "clip") -> np.ndarray:
    plan = make_plan()
    out = tmp_path / f"{name}.mp4"
    CameraMoveVideo().render(plan, plan.shots[2], keyframe, end, k, out)  # shot 2's own prompt says static
    return decode(out, k.width, k.height)


def gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)


def shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """How far the picture content moved from frame a to frame b (pixels, +x right, +y down)."""
    (dx, dy), _ = cv2.phaseCorrelate(gray(a), gray(b))
    return dx, dy


def zoom(a: np.ndarray, b: np.ndarray) -> float:
    """The magnification that best turns frame a's centre into frame b."""
    h, w = a.shape[:2]
    inner = (slice(h // 8, -h // 8), slice(w // 8, -w // 8))
    errors = {}
    for s in np.arange(0.95, 1.4, 0.005):
        crop = cv2.getRectSubPix(a, (round(w / s), round(h / s)), (w / 2, h / 2))
        errors[s] = np.abs(cv2.resize(crop, (w, h)).astype(np.float32) - b)[inner].mean()
    return float(min(errors, key=errors.get))


def test_clip_format_from_an_animatic_keyframe(tmp_path):
    plan = make_plan()
    kf = tmp_path / "keyframe_0.png"
    AnimaticImage().keyframe(plan, plan.shots[0], [], 0, (256, 144), kf)
    k = knobs(plan.shots[0].prompt)
    out = tmp_path / "clip_0.mp4.partial"  # the caller's temp name: no .mp4 suffix to guess from
    CameraMoveVideo().render(plan, plan.shots[0], kf, None, k, out)
    info = probe(out)
    assert (info.width, info.height, info.video_codec, info.pix_fmt) == (256, 144, "h264", "yuv420p")
    assert abs(info.duration - 17 / 16) <= 1 / 16 and info.audio_codec is None
    frames = decode(out, 256, 144)
    assert len(frames) == 17
    # The caption strip is not animated along with the picture (it would slide out of frame).
    strip = int(Image.open(kf).info[CAPTION_KEY])
    assert luma(frames[0][-strip:].astype(np.int16)).mean() > luma(rgb(kf)[-strip:]).mean() + 20


def test_dolly_in_zooms_and_dolly_out_pulls_back(tmp_path, texture):
    into = render(tmp_path, texture, knobs("Slow dolly in toward the window, steady and smooth."), name="in")
    assert zoom(into[0], into[-1]) == pytest.approx(1.18, abs=0.03)
    out = render(tmp_path, texture, knobs("Dolly out from the table, revealing the room."), name="out")
    assert zoom(out[-1], out[0]) == pytest.approx(1.18, abs=0.03)


@pytest.mark.parametrize("prompt, axis, sign", [
    ("Pan right across the busy street corner slowly.", 0, -1),  # camera right -> picture moves left
    ("Pan left across the busy street corner slowly.", 0, 1),
    ("Tilt up from the wet pavement to the sky.", 1, 1),  # camera up -> picture moves down
    ("Tracking shot following her along the quay.", 0, -1),
])
def test_pans_and_tilts_move_the_picture(tmp_path, texture, prompt, axis, sign):
    frames = render(tmp_path, texture, knobs(prompt))  # knobs.prompt wins over the shot's "static" prompt
    moved = shift(frames[0], frames[len(frames) // 2]), shift(frames[0], frames[-1])
    half, full = moved[0][axis], moved[1][axis]
    size = (256, 144)[axis]
    assert sign * full > 0.1 * size and abs(moved[1][1 - axis]) < 1.5
    assert 0.3 < half / full < 0.7  # eased: about halfway at the middle frame


def test_static_camera_barely_moves(tmp_path, texture):
    frames = render(tmp_path, texture, knobs("Static camera, locked off on the doorway."))
    dx, dy = shift(frames[0], frames[-1])
    assert abs(dx) < 0.5 and abs(dy) < 0.5
    assert zoom(frames[0], frames[len(frames) // 2]) == pytest.approx(1.0, abs=0.015)
    # ...but it is not a frozen frame: grain and breathing keep it alive.
    assert np.abs(frames[0].astype(np.int16) - frames[1]).mean() > 0.3


def test_seeds_give_different_but_similar_clips(tmp_path, texture):
    prompt = "Static camera, locked off on the doorway."
    a = render(tmp_path, texture, knobs(prompt, seed=1), name="a").astype(np.int16)
    b = render(tmp_path, texture, knobs(prompt, seed=2), name="b").astype(np.int16)
    again = render(tmp_path, texture, knobs(prompt, seed=1), name="again").astype(np.int16)
    diff = np.abs(a - b).mean()
    assert 0.3 < diff < 6
    assert np.abs(a - again).mean() < diff / 4  # same seed, same clip (up to the encoder)


def test_end_frame_cross_fade(tmp_path, texture):
    end = tmp_path / "end.png"
    Image.fromarray(np.full((144, 256, 3), (40, 90, 200), np.uint8)).save(end)
    k = knobs("Pan right across the busy street corner slowly.", frames=18)
    plain = render(tmp_path, texture, k, name="plain").astype(np.int16)
    faded = render(tmp_path, texture, k, end=end, name="faded").astype(np.int16)
    target = np.array((40, 90, 200))
    assert np.abs(faded[-1] - target).mean() < 5
    assert np.abs(faded[0] - target).mean() > 30
    assert np.abs(faded[:12] - plain[:12]).mean() < 1.5  # untouched before the last third
    assert np.abs(faded[13] - target).mean() > np.abs(faded[16] - target).mean()  # fading in


def test_odd_size_is_rejected(tmp_path, texture):
    with pytest.raises(ValueError, match="even"):
        render(tmp_path, texture, knobs("Static camera.", size=(255, 144)))


# --------------------------------------------------------------------------------------- what is drawn


def _director_plan(prompt: str) -> Plan:
    from models.cpu.director import HeuristicDirector
    return HeuristicDirector().plan(prompt)


def test_named_props_are_drawn_and_the_insert_shows_its_thing(tmp_path):
    """A tram is drawn as its pictogram (yellow) where the plan names it, and nowhere else."""
    model = AnimaticImage()
    tram_yellow = (224, 176, 40)
    plan = _director_plan("a nurse walks home through an empty Glasgow street as the first tram passes at dawn")
    insert = next(s for s in plan.shots if "insert" in s.shot_type.lower())
    shares = {}
    for shot in (plan.shots[0], insert):
        out = tmp_path / f"kf{shot.index}.png"
        model.keyframe(plan, shot, [], seed=1, size=(320, 180), out=out)
        shares[shot.index] = share_near(rgb(out), tram_yellow, tol=20)
    assert shares[insert.index] > 0.03 and shares[insert.index] > 2 * shares[plan.shots[0].index] > 0.002
    plain = _director_plan("a nurse walks home through an empty Glasgow street at dawn")
    out = tmp_path / "plain.png"
    model.keyframe(plain, plain.shots[0], [], seed=1, size=(320, 180), out=out)
    assert share_near(rgb(out), tram_yellow, tol=20) < 0.0005


def test_weather_is_drawn(tmp_path):
    """Fog veils the frame (less contrast); snow lies white on the ground; rain greys the sky."""
    model = AnimaticImage()
    frames = {}
    for weather in ("", " in the fog", " in the snow", " in the rain"):
        plan = _director_plan(f"a woman walks along a canal at noon{weather}")
        out = tmp_path / f"w{len(weather)}.png"
        model.keyframe(plan, plan.shots[0], [], seed=1, size=(320, 180), out=out)
        frames[weather.split()[-1] if weather else "clear"] = rgb(out)
    contrast = {k: float(luma(v[:120]).std()) for k, v in frames.items()}
    saturation = {k: float((v[:100].max(axis=-1) - v[:100].min(axis=-1)).mean()) for k, v in frames.items()}
    assert contrast["fog"] < 0.7 * contrast["clear"]
    ground = {k: float(luma(v[130:160]).mean()) for k, v in frames.items()}  # the towpath, above the caption
    assert ground["snow"] > ground["clear"] + 8
    assert saturation["rain"] < 0.7 * saturation["clear"]


@pytest.mark.parametrize("size", [(320, 180), (180, 320), (256, 256), (256, 320)])
def test_frames_are_composed_for_their_aspect(tmp_path, size):
    """In every aspect the lead stands inside the frame, feet above the caption, and the pier reaches them:
    under the lead's feet the boards (warm wood), while beside the pier, at the same height, the sea (blue)."""
    plan = make_plan("a quiet pier at noon")
    out = tmp_path / "kf.png"
    AnimaticImage().keyframe(plan, plan.shots[0], [], seed=1, size=size, out=out)
    img = rgb(out).astype(int)
    strip = int(Image.open(out).info[CAPTION_KEY])
    ys, xs = np.nonzero(np.all(np.abs(img - np.array(MUSTARD)) <= 14, axis=-1))
    w, h = size
    assert len(xs) > 20, "the lead is not in the frame"
    assert 0.15 * w < xs.mean() < 0.85 * w and ys.max() < h - strip and ys.min() > 0.2 * h
    feet = ys.max()
    under = img[feet + 1:feet + 4, xs.min():xs.max() + 1].reshape(-1, 3).mean(axis=0)
    beside = img[feet + 1:feet + 4, :max(2, int(0.04 * w))].reshape(-1, 3).mean(axis=0)
    assert under[0] > under[2] + 30, f"no boards under the lead's feet: mean RGB {under.round()}"
    assert beside[2] > beside[0] + 30, f"the frame's edge beside the pier is not the sea: mean RGB {beside.round()}"


# ------------------------------------------------------------------------------ the plan's scene
def _ground(path: Path) -> np.ndarray:
    """The mean colour of the ground band (above the caption strip) of a drawn frame."""
    img = rgb(path)
    strip = int(Image.open(path).info[CAPTION_KEY])
    return img[int(img.shape[0] * 0.72):img.shape[0] - strip - 2].reshape(-1, 3).mean(axis=0)


def test_the_painter_draws_the_scene_not_the_shot_prose(tmp_path):
    """The plan's scene says midnight in a lavender field; the prose says noon on a street: the frame
    is a dark field, its ground the colour the place's own words name."""
    from reel.schema import Scene

    prose = make_plan("a rainy city street at noon")
    said = prose.model_copy(update={"scene": Scene(place="Provence lavender field", place_kind="field",
                                                    time="night", things=["honeycomb frame", "paper boats", "red tractor"])})
    model = AnimaticImage()
    for name, plan in (("prose", prose), ("said", said)):
        model.keyframe(plan, plan.shots[0], [], seed=1, size=(256, 144), out=tmp_path / f"{name}.png")
    assert luma(rgb(tmp_path / "said.png")[:40]).mean() < luma(rgb(tmp_path / "prose.png")[:40]).mean() - 40
    from models.cpu.painter import describe

    desc = describe(said)
    assert (desc.setting, desc.time, desc.weather) == ("field", "night", None)
    # By the table's synonyms head noun first, else Font Awesome's icon of that name, in the thing's own colour.
    assert desc.props == ("boat", "tractor") and desc.unnamed == ("honeycomb frame",)
    r, g, b = dict(desc.colours)["tractor"]
    assert r > 150 and g < 80 and b < 80
    assert desc.ground is not None and desc.ground[2] > desc.ground[1] + 30  # lavender: blue over green
    assert describe(prose).ground is None and describe(prose).setting == "street"


def test_a_colour_word_colours_the_place(tmp_path):
    """'lavender field' is lavender, 'wheat field' wheat, a plain field stays green: the colour comes from
    the place's words (the painter's colours, then Pillow's CSS names), not a row per place."""
    from reel.schema import Scene

    grounds = {}
    for words in ("lavender field", "wheat field", "field"):
        plan = make_plan().model_copy(update={"scene": Scene(place=words, place_kind="field", time="noon")})
        AnimaticImage().keyframe(plan, plan.shots[0], [], seed=1, size=(256, 144), out=tmp_path / f"{words}.png")
        grounds[words] = _ground(tmp_path / f"{words}.png")
    r, g, b = grounds["lavender field"]
    assert b > g + 15 and r > g  # violet
    r, g, b = grounds["wheat field"]
    assert r > b + 30 and g > b + 15  # straw
    r, g, b = grounds["field"]
    assert g > r and g > b  # grass


def test_an_unknown_place_in_a_city_is_a_street():
    from models.cpu.painter.scene import setting_kind
    from reel.schema import Scene

    def kind(place: str) -> str:
        return setting_kind(Scene(place=place, place_kind=place.split()[-1], time="noon"))

    assert kind("Rio de Janeiro flooded gutter") == "street"
    assert kind("flooded gutter") == "street"  # no keyword, but WordNet: a gutter is a channel, a way
    assert kind("sunny trattoria") == "field"  # a word WordNet lacks, no city: open country, the default
    assert kind("Naples alley shop") == "interior" and kind("Wales green valley") == "mountain"
