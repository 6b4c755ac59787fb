"""A CPU video backend that fails on purpose, for drills and for proving the critic loop:
it renders like camera-move except for the (shot, attempt) pairs it is told to spoil.

Faults (REEL_VIDEO_FAULTS="shot:attempt:fault,..."):
  frozen         every frame is the keyframe, bit for bit (a dead clip)
  ignore_camera  the camera stays still when a move is asked, or pans when stillness is asked
  drift          colours slide steadily away from the keyframe (hue rotates over the shot)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from models.cpu.camera_move import CameraMoveVideo
from reel.camera import camera_move
from reel.errors import UserError
from reel.media import run_ffmpeg
from reel.schema import Plan, RenderKnobs, Shot
from models.base import BackendBase

FAULTS = ("frozen", "ignore_camera", "drift")


def parse_faults(spec: str) -> dict[tuple[int, int], str]:
    faults = {}
    for item in filter(None, (x.strip() for x in spec.split(","))):
        try:
            shot, attempt, fault = item.split(":")
            faults[(int(shot), int(attempt))] = fault
        except ValueError:
            raise UserError(f"REEL_VIDEO_FAULTS item {item!r} is not shot:attempt:fault") from None
        if fault not in FAULTS:
            raise UserError(f"unknown video fault {fault!r}; choose one of: {', '.join(FAULTS)}")
    return faults


class FaultyVideo(BackendBase):
    name = "faulty"
    cpu, reentrant = True, True  # as the camera-move backend it wraps
    data_files = ("camera_verbs.json",)

    def __init__(self, faults: str = "") -> None:
        self.faults = parse_faults(faults)
        self.model_id = f"{CameraMoveVideo.model_id}+faults[{faults}]"
        self._clean = CameraMoveVideo()

    def load(self) -> None:
        pass

    def unload(self) -> None:
        pass

    def render(self, plan: Plan, shot: Shot, keyframe: Path, end_frame: Path | None, knobs: RenderKnobs,
               out: Path) -> None:
        fault = self.faults.get((shot.index, knobs.attempt))
        if fault == "frozen":
            run_ffmpeg(["-y", "-loop", "1", "-i", str(keyframe), "-frames:v", str(knobs.frames), "-r", str(knobs.fps),
                        "-vf", f"scale={knobs.width}:{knobs.height}:force_original_aspect_ratio=increase,"
                               f"crop={knobs.width}:{knobs.height}",
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(out)], "freezing a clip")
        elif fault == "ignore_camera":
            wrong = "Pan right." if camera_move(knobs.prompt) == "static" else "Static camera."
            rest = knobs.prompt.split(". ", 1)[-1]
            self._clean.render(plan, shot, keyframe, end_frame, knobs.model_copy(update={"prompt": f"{wrong} {rest}"}),
                               out)
        elif fault == "drift":
            with tempfile.TemporaryDirectory() as tmp:
                clean = Path(tmp) / "clean.mp4"
                self._clean.render(plan, shot, keyframe, end_frame, knobs, clean)
                seconds = knobs.frames / knobs.fps
                run_ffmpeg(["-y", "-i", str(clean), "-vf", f"hue=h=120*t/{seconds:.3f}:s=1.3", "-c:v", "libx264",
                            "-preset", "veryfast", "-pix_fmt", "yuv420p", str(out)], "drifting a clip")
        else:
            self._clean.render(plan, shot, keyframe, end_frame, knobs, out)
