"""Caption fonts come with reel's own install (Noto from PyPI) and libass draws them through
ffmpeg's fontsdir with the system's fonts hidden from fontconfig: real packages, real ffmpeg and
libass, real fontconfig where it is installed."""

from __future__ import annotations

import shutil
from importlib import metadata

import ffmpeg
import numpy as np
import pytest
from PIL import Image, ImageFont

from reel.captions import ass, cues, layout
from reel.delivery import subtitle_table
from reel.fonts import SYSTEM, font_for, packaged_faces, system_font
from reel.media import ffmpeg_exe
from reel.presets import for_aspect, get_preset
from tasks.mix import burn_captions
from tests.helpers import fontconfig_file
from tests.media_checks import caption_lines

LANGS = "abefhijpz"  # the nine narration languages (prompts/locales.json)


@pytest.fixture
def no_system_fonts(tmp_path, monkeypatch):
    """fontconfig (ffmpeg's and fc-match's) sees no font at all; font_for looks again."""
    monkeypatch.setenv("FONTCONFIG_FILE", str(fontconfig_file(tmp_path / "fc")))
    font_for.cache_clear()
    yield
    font_for.cache_clear()


@pytest.mark.usefixtures("no_system_fonts")
@pytest.mark.parametrize("lang", LANGS)
def test_every_narration_language_has_a_packaged_noto_face_under_the_open_font_license(lang):
    font = font_for(lang)
    assert font.source != SYSTEM and font.path.is_file(), font
    assert font.family.startswith("Noto Sans"), font
    assert ImageFont.truetype(str(font.path), 10, index=font.index).getname() == (font.family, "Regular")
    dist = metadata.distribution(font.source.split()[0])
    licence = " ".join([dist.metadata.get("License-Expression") or "", dist.metadata.get("License") or "",
                        *dist.metadata.get_all("Classifier", [])])
    assert "OFL" in licence or "Open Font License" in licence, (font.source, licence)


def _render(size, script, tmp_path, name: str) -> np.ndarray:
    """One frame of a busy test picture at the reel's final size, with the script burned in by
    the mix's own filter when given."""
    w, h = size
    picture = ffmpeg.input(f"testsrc2=s={w}x{h}:d=1", f="lavfi").video
    if script is not None:
        picture = burn_captions(picture, script)
    out = tmp_path / f"{name}.png"
    picture.output(str(out), vframes=1).overwrite_output().run(cmd=ffmpeg_exe(), quiet=True)
    return np.asarray(Image.open(out).convert("L"))


def _script(tmp_path, text: str, lang: str, size, aspect: str, name: str, tofu: bool = False):
    """The caption script and its font, laid out as tasks/mix.write_captions does; `tofu` keeps the
    layout but draws every character as one that no font has (the boxes of missing glyphs)."""
    folder = tmp_path / name
    folder.mkdir()
    script = folder / "captions.ass"
    body = ass(cues([text], [0.0], [2.0], 2.0), lang, size, aspect)
    if tofu:
        lines = layout(text, lang, size, aspect)[0]
        missing = ["".join(c if c.isspace() else "\U000F0000" for c in line) for line in lines]
        body = body.replace("\\N".join(lines), "\\N".join(missing))
        assert missing[0] in body
    script.write_text(body, encoding="utf-8")
    font = font_for(lang)
    (folder / font.path.name).symlink_to(font.path)
    return script


LONG = {"h": "शाम की सुनहरी रोशनी में वह पुराने घाट की सीढ़ियों पर धीरे धीरे अकेली चलती है",
        "j": "雨上がりの京都の路地を、彼女は古い傘を手にして一人で静かに歩いていく"}


@pytest.mark.usefixtures("no_system_fonts")
@pytest.mark.parametrize("aspect", ["9:16", "1:1"])
@pytest.mark.parametrize("lang", ["h", "j"])
def test_burned_captions_draw_real_glyphs_on_every_line_with_system_fonts_hidden(tmp_path, lang, aspect):
    """Each caption line differs from the same frame without captions, and from the same line
    drawn as missing glyphs (tofu: every character replaced by one no font has)."""
    size = for_aspect(get_preset("preview"), aspect).final_size
    lines, px = layout(LONG[lang], lang, size, aspect)
    assert len(lines) == 2, lines  # long enough to need both lines
    bare = _render(size, None, tmp_path, "bare")
    burned = _render(size, _script(tmp_path, LONG[lang], lang, size, aspect, "real"), tmp_path, "burned")
    tofu = _render(size, _script(tmp_path, LONG[lang], lang, size, aspect, "tofu", tofu=True), tmp_path, "tofu")
    margin = round(subtitle_table()["safe_area"][aspect]["bottom"] * size[1])
    drawn = caption_lines(burned, bare, len(lines), px, margin)
    as_tofu = caption_lines(burned, tofu, len(lines), px, margin)
    print(f"{lang} {aspect} {size}: {len(lines)} lines at {px}px; pixels changed per line "
          f"by the caption {drawn}, against tofu {as_tofu}")
    for line, changed, not_tofu in zip(lines, drawn, as_tofu):
        # Glyph ink on the line: at least 4% of a px-square cell per character (about 10% is drawn).
        assert changed > 0.04 * px * px * len(line.replace(" ", "")), (line, changed)
        assert not_tofu > 0.3 * changed, (line, not_tofu, changed)  # and not the boxes of missing glyphs


def test_libass_prefers_the_packaged_face_to_a_system_face_of_the_same_family(tmp_path, monkeypatch):
    """The system offers only Noto Sans Italic (family 'Noto Sans', from the same package); the mix
    links the upright face into fontsdir. libass draws the upright one, exactly as with no system
    fonts at all; without fontsdir it would take the system's italic."""
    italic = next(f for f in packaged_faces().values() if f.family == "Noto Sans").path.with_name(
        "NotoSans-Italic[wdth,wght].ttf")
    assert italic.is_file(), italic
    shown = tmp_path / "system"
    shown.mkdir()
    (shown / italic.name).symlink_to(italic)
    size = (640, 360)
    script = _script(tmp_path, "Quiet harbour at dawn", "a", size, "16:9", "real")
    monkeypatch.setenv("FONTCONFIG_FILE", str(fontconfig_file(tmp_path / "fc-none")))
    hidden = _render(size, script, tmp_path, "hidden")
    monkeypatch.setenv("FONTCONFIG_FILE", str(fontconfig_file(tmp_path / "fc-italic", shown)))
    with_system = _render(size, script, tmp_path, "with-system")
    assert np.array_equal(hidden, with_system)
    script.with_name(italic.name.replace("-Italic", "")).unlink()  # no fontsdir face: libass asks fontconfig
    system_only = _render(size, script, tmp_path, "system-only")
    assert (np.abs(system_only.astype(int) - hidden.astype(int)) > 60).sum() > 200


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="no fc-match (fontconfig) here to find system fonts")
def test_a_system_face_is_found_but_the_packaged_one_is_used(tmp_path, monkeypatch):
    devanagari = font_for.__wrapped__("h")
    shown = tmp_path / "system"
    shown.mkdir()
    (shown / "SystemDevanagari.ttf").symlink_to(devanagari.path)
    monkeypatch.setenv("FONTCONFIG_FILE", str(fontconfig_file(tmp_path / "fc", shown)))
    found = system_font("Noto Sans Devanagari")
    assert found is not None and found.source == SYSTEM and found.path.name == "SystemDevanagari.ttf"
    assert system_font("Noto Sans JP") is None  # fc-match's substitute of another family is not taken
    assert font_for.__wrapped__("h") == devanagari and devanagari.source != SYSTEM


def test_doctor_names_each_caption_face_and_its_package_with_system_fonts_hidden(tmp_path):
    from tests.helpers import reel_cli

    proc = reel_cli("doctor", env={"FONTCONFIG_FILE": str(fontconfig_file(tmp_path / "fc"))})
    (line,) = [line for line in proc.stdout.splitlines() if "] fonts" in line]
    assert line.startswith("[  ok]") and "Noto Sans JP (pylopdf-fonts-jp" in line, line
    assert SYSTEM not in line, line
