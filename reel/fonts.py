"""Caption fonts. The faces come from reel's own dependencies (pyproject.toml: Noto Sans, Noto Sans
Devanagari, Noto Sans JP and SC from PyPI), found by family name among the font files those
packages ship; libass gets the chosen file through ffmpeg's `fontsdir`, so no fontconfig set-up and
no system fonts are needed.

A face installed on the system (found with fontconfig's fc-match) is used only when no package
ships the family: the packaged file is the same on every machine, so the line breaks measured here
and the glyphs libass draws are the same everywhere (a distribution's Noto may be another version,
with other metrics). The manifest's `delivery.caption_font` says which file was used."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from reel import prompts
from reel.errors import BackendUnavailable

FONT_FILES = (".ttf", ".otf", ".ttc", ".otc")
SYSTEM = "system (fontconfig)"


@dataclass(frozen=True)
class Font:
    family: str
    path: Path
    index: int
    source: str  # the package and its version, or SYSTEM

    def record(self) -> dict:
        """What the manifest says about the face a reel's captions were drawn in."""
        return {"family": self.family, "file": self.path.name, "index": self.index, "source": self.source}


def _faces(path: Path):
    """(index, family, style) of each face in a font file (a collection holds several)."""
    from PIL import ImageFont

    index = 0
    while True:
        try:
            family, style = ImageFont.truetype(str(path), 10, index=index).getname()
        except OSError:  # past the last face of a collection (or not a font FreeType reads)
            return
        yield index, family, style
        index += 1


@functools.cache
def packaged_faces() -> dict[str, Font]:
    """The upright face of each family in the font files of reel's own install requirements
    (extras left out); empty when reel is not installed as a package."""
    try:
        wanted = [re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0] for r in metadata.requires("reel") or []
                  if "extra ==" not in r]
    except metadata.PackageNotFoundError:
        return {}
    faces: dict[str, Font] = {}
    for name in wanted:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:  # installed before pyproject.toml named it: `make setup`
            continue
        for file in sorted(str(f) for f in dist.files or [] if str(f).lower().endswith(FONT_FILES)):
            path = Path(dist.locate_file(file)).resolve()
            for index, family, style in _faces(path):
                if style == "Regular" or family not in faces:
                    faces[family] = Font(family, path, index, f"{dist.metadata['Name']} {dist.version}")
    return faces


def system_font(family: str) -> Font | None:
    """The system's face of a family through fontconfig, or None (no fontconfig, or no such face:
    fc-match then answers with a substitute of another family)."""
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(["fc-match", "-f", "%{file}|%{index}|%{family}", family], capture_output=True,
                           text=True).stdout
    path, index, families = (found.split("|", 2) + ["", "", ""])[:3]
    if family not in [f.strip() for f in families.split(",")]:
        return None
    return Font(family, Path(path), int(index or 0), SYSTEM)


def families_for(lang: str) -> list[str]:
    fonts = prompts.table("delivery.json")["fonts"]
    return fonts.get(lang, fonts["latin"])


@functools.cache
def font_for(lang: str) -> Font:
    """The caption face for a narration language: a packaged face of one of its families, in the
    table's order, else the system's."""
    families = families_for(lang)
    packaged = packaged_faces()
    for family in families:
        if family in packaged:
            return packaged[family]
    for family in families:
        if found := system_font(family):
            return found
    raise BackendUnavailable(
        f"no caption font for narration language {lang!r} ({' or '.join(families)}): the font packages in "
        "reel's dependencies are not installed; run `make setup` (or pip install -e .), or use --subtitles srt")
