"""Tier-1 measured critic: cheap CPU quality control of a rendered clip with OpenCV.

It measures only what a pixel statistic can defend: frozen stretches, black frames, luma flicker,
global camera motion against the asked camera verb, colour drift from the keyframe and from the
subject's portrait, an over-saturated or clipped look, and whether the clip is the shot at all
(its first frame shows the keyframe's shapes, no scene cut inside it, and, when the next shot
continues this one, its last frame meets the next keyframe). Each measurement becomes an axis
score and, past its threshold, an issue that cites the number and the threshold. Labels from the
failure set are used only where a measurement supports one (freeze, black, flicker, cuts and
structure have no label of their own, so those issues carry label=None). Thresholds live in
configs/qc_thresholds.json; the measurements themselves in models.measured.clip_measures.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from models.measured.clip_measures import (
    KeyView, clipped_fraction, content_steps, crosses, delta_e, global_motion, hue_presence, keyframe_views,
    one_way, read_frames, read_keyframe, saturation, score, structure_match, structured_cells, subject_hue, view_move,
    view_transform, weighted_harmonic_mean, worst_cut,
)
from reel import prompts
from reel.camera import camera_move, move_vector
from reel.schema import FailureLabel, Issue, Plan, RenderKnobs, Shot, Verdict
from models.base import BackendBase

THRESHOLDS = "qc_thresholds.json"
CRITIC = "measured-qc-v2 (tier 1)"


def judged(value: float, band: dict, issues: list[Issue], detail) -> float:
    """Score a measure on its band; past the fail mark, add an issue whose text cites the number."""
    if crosses(value, band):
        issues.append(Issue(detail=detail()))
    return score(value, band)


class MeasuredCritic(BackendBase):
    name = "measured"
    cpu = True  # no GPU: takes no GPU turn (runtime/host.py)
    data_files = ('qc_thresholds.json', 'camera_verbs.json')
    model_id = "measured-qc-v2"

    def load(self) -> None:  # nothing to load: OpenCV and numpy only
        pass

    def unload(self) -> None:
        pass

    def critique(self, plan: Plan, shot: Shot, clip: Path, keyframe: Path,
                 portraits: dict[str, Path], knobs: RenderKnobs, end_frame: Path | None = None) -> Verdict:
        """end_frame: the next shot's keyframe when that shot continues this one (cut false): the
        clip must end on it, so the shot itself is judged on the part before the hand-over."""
        started = time.perf_counter()
        t = prompts.table(THRESHOLDS)
        frames, diffs = read_frames(Path(clip), t["sampling"]["width"])
        if len(frames) < t["sampling"]["min_frames"]:
            return Verdict.unscored(CRITIC, f"clip {clip} is missing, unreadable or too short to judge "
                                            f"({len(frames)} frames decoded, need {t['sampling']['min_frames']})")
        h, w = frames[0].shape[:2]
        key, end_key = (fit(read_keyframe(Path(p)), w, h) if p else None for p in (keyframe, end_frame))
        if key is None:
            return Verdict.unscored(CRITIC, f"keyframe {keyframe} is missing or unreadable: drift cannot be judged")
        if end_frame and end_key is None:
            return Verdict.unscored(CRITIC, f"next keyframe {end_frame} is missing or unreadable: "
                                            "the hand-over to the next shot cannot be judged")
        gray = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
        # A night keyframe may itself sit under the floor: then only frames far darker than it are black.
        key_luma = float(cv2.cvtColor(key, cv2.COLOR_BGR2GRAY).mean())
        floor = min(t["black"]["luma_floor"], max(t["black"]["min_luma_floor"], 0.5 * key_luma))
        lit = [g.mean() >= floor for g in gray]
        # The shot proper: all of it, or the part before it hands over to the next shot's keyframe.
        own = len(frames) if end_key is None else max(t["sampling"]["min_frames"],
                                                      round(len(frames) * t["continuity"]["judge_until"]))

        m: dict[str, float] = {"frames_decoded": float(len(frames)), "frames_judged_as_shot": float(own)}
        issues: list[Issue] = []
        notes: list[str] = []
        artifact = [self._freeze(diffs, t, m, issues), self._black(lit, floor, t, m, issues),
                    self._flicker(gray, t, m, issues), self._cut(frames, t, m, issues)]
        black_score = artifact[1]
        motion, measured_pairs = global_motion(gray[:own], lit[:own], t["sampling"]["motion_step"], t["registration"])
        if measured_pairs >= t["sampling"]["min_motion_pairs"]:
            # knobs, not shot: retries rewrite the camera sentence; a hand-over clip does its move by `own`
            composition = self._camera(knobs.prompt, motion, (w, h), own / len(frames) if end_key is not None
                                       else 1.0, t, m, issues, cv2.cvtColor(key, cv2.COLOR_BGR2GRAY), notes)
        else:  # mostly black: no camera to judge, and the black issue already says so
            composition = black_score
        # Is the clip this shot (and does it hand over to the next): judged with the framing, on an
        # axis weighted enough (>= 0.23) that one failure sinks the overall score.
        framing = [composition, self._first_frame(key, frames[0], t, m, issues, notes)]
        if end_key is not None:
            framing.append(self._hand_over(end_key, frames[-1], t, m, issues, notes))
        composition = min(framing)
        if any(lit[:own]):
            first, last = lit.index(True), own - 1 - lit[:own][::-1].index(True)
            start, end = keyframe_views(key, gray[first], motion, t["colour_drift"]["min_overlap"], m,
                                        t["registration"])
            shown = [f for f, ok in zip(frames[:own], lit) if ok][:: t["sampling"]["motion_step"]]  # looks change slowly
            artifact.append(self._stylized(shown, start, t, m, issues))
            character, scene = self._colour(frames[first], frames[last], start, end, shot, portraits, t, m, issues)
        else:  # nothing but black: no colour or look to compare
            character = scene = black_score
        scores = {"character_match": character, "scene_match": min(scene, black_score),
                  "composition": composition, "artifact_free": min(artifact)}
        m["elapsed_s"] = round(time.perf_counter() - started, 3)
        return Verdict(**scores, overall=weighted_harmonic_mean(scores, t["weights"]), issues=issues,
                       critic=CRITIC, measurements=m, notes=notes)

    # ---- one method per check: measure, record the number, score it, raise an issue past the threshold

    def _freeze(self, diffs, t, m, issues) -> float:
        band = t["freeze"]
        run = longest = 0
        for d in diffs:
            run = run + 1 if d < band["pixel_diff"] else 0
            longest = max(longest, run)
        frac = longest / len(diffs)
        m.update(freeze_fraction=frac, median_frame_diff=float(np.median(diffs)))
        if crosses(frac, band):
            issues.append(Issue(detail=f"frozen: {frac:.0%} of the clip is a held frame ({longest} consecutive "
                                       f"frame steps with mean abs luma diff < {band['pixel_diff']}); "
                                       f"threshold {band['fail']:.0%}"))
        return score(frac, band)

    def _black(self, lit, floor, t, m, issues) -> float:
        band = t["black"]
        frac = 1.0 - float(np.mean(lit))
        m.update(black_fraction=frac, black_luma_floor=floor)
        return judged(frac, band, issues, lambda: f"black frames: {frac:.0%} of frames have mean luma < "
                                                  f"{floor:.1f}; threshold {band['fail']:.0%}")

    def _flicker(self, gray, t, m, issues) -> float:
        band = t["flicker"]
        luma = np.array([g.mean() for g in gray])
        x = np.arange(len(luma))
        residual = luma - np.polyval(np.polyfit(x, luma, 1), x)  # a slow fade is not flicker
        value = float(np.diff(residual).std())
        m["flicker"] = value
        return judged(value, band, issues, lambda: f"flicker: frame-to-frame luma change std {value:.2f} levels "
                                                   f"(detrended); threshold {band['fail']}")

    def _cut(self, frames, t, m, issues) -> float:
        """A scene cut inside the clip: one frame step that changes the picture far more than its neighbours."""
        band = t["scene_cut"]
        step, jump, ratio = worst_cut(content_steps(frames), band["window"])
        m.update(cut_ratio=ratio, cut_jump=jump)
        if jump < band["min_jump"]:
            return 10.0  # a small change, however sudden against a still neighbourhood, is not a new scene
        if crosses(ratio, band):
            issues.append(Issue(detail=(
                f"scene cut inside the clip: between frames {step} and {step + 1} the picture changes by "
                f"{jump:.1f} (mean abs HSV), {ratio:.1f}x the steps around it; threshold {band['fail']}x "
                f"(and a change of at least {band['min_jump']})")))
        return score(ratio, band)

    def _first_frame(self, key, first, t, m, issues, notes) -> float:
        """Is this clip rendered from this keyframe: the keyframe's shapes in the first frame."""
        return self._structure(key, first, "first_frame_structure", t, m, issues, notes, lambda v: (
            f"not this shot: the first frame does not show the keyframe's shapes (edge correlation "
            f"{v:.2f} on a grid, after registering the keyframe)"))

    def _hand_over(self, end_key, last, t, m, issues, notes) -> float:
        """The next shot continues this one (cut false): the clip must end on the next keyframe."""
        return self._structure(end_key, last, "last_frame_to_next_keyframe", t, m, issues, notes, lambda v: (
            f"no continuity: the next shot continues this one (cut false) but the last frame does not "
            f"meet its keyframe (edge correlation {v:.2f})"))

    @staticmethod
    def _structure(key, frame, measure: str, t, m, issues, notes, says) -> float:
        """Edge correlation of `frame` with the keyframe `key`, scored on the structure band; not judged
        (a note says why) when the keyframe has too few shapes to match: a calm sea, an empty field, fog."""
        band = t["structure"]
        shaped = structured_cells(key, band["cell_edge_floor"])
        m[f"{measure}_keyframe_cells_with_shapes"] = shaped
        if shaped < band["min_cells_with_shapes"]:
            notes.append(f"{measure.replace('_', ' ')} not judged: the keyframe has shapes in {shaped:.0%} of its "
                         f"grid cells (under {band['min_cells_with_shapes']:.0%}), too little to match a frame on")
            return 10.0
        (key_way, key_normal, _), (frame_way, frame_normal, _) = (
            one_way(cv2.cvtColor(x, cv2.COLOR_BGR2GRAY)) for x in (key, frame))
        if min(key_way, frame_way) >= t["camera_move"]["one_way_coherence"] and abs(key_normal @ frame_normal) >= 0.9:
            notes.append(f"{measure.replace('_', ' ')} not judged: the keyframe's and the frame's shapes run the "
                         f"same one way (coherence {key_way:.2f} and {frame_way:.2f}, a horizon): any slide along "
                         "them fits, so there is no place to match the keyframe at")
            return 10.0
        value = structure_match(key, frame, t["colour_drift"]["min_overlap"], t["registration"])
        m[measure] = value
        return judged(value, band, issues, lambda: f"{says(value)}; threshold {band['fail']}")

    def _stylized(self, shown, start: KeyView, t, m, issues) -> float:
        """Over-saturated or clipped: past an absolute ceiling AND clearly beyond the keyframe region shown."""
        band = t["stylized"]
        floor = band["value_floor"]
        sat = float(np.mean([saturation(f, floor) for f in shown]))
        clipped = float(np.mean([clipped_fraction(f) for f in shown]))
        key_sat, key_clipped = saturation(start.image, floor, start.mask), clipped_fraction(start.image, start.mask)
        m.update(saturation=sat, keyframe_saturation=key_sat, clipped_fraction=clipped, keyframe_clipped=key_clipped)
        result = 10.0
        for what, value, ref, b in (("mean saturation", sat, key_sat, band["saturation"]),
                                    ("clipped pixels", clipped, key_clipped, band["clipped"])):
            if value - ref < b["margin"]:
                continue  # the keyframe already looks like this: not the render's doing
            result = min(result, score(value, b))
            if crosses(value, b):
                issues.append(Issue(label=FailureLabel.STYLIZED_AI_LOOK, detail=(
                    f"STYLIZED_AI_LOOK: {what} {value:.2f} (keyframe {ref:.2f}); threshold {b['fail']} "
                    f"when {b['margin']} above the keyframe")))
        return result

    def _camera(self, prompt, motion, size, share, t, m, issues, key_gray=None, notes=None) -> float:
        """share: the fraction of the clip measured; that much of the asked move is due by its end.
        A keyframe whose shapes run one way (a horizon over open water) shows a move only across
        them: the move is judged there, or not at all when it runs along them (notes say which)."""
        move = camera_move(prompt)
        asked = {k: v * share for k, v in move_vector(move).items()}
        zoom, dx, dy = view_move(motion, size)
        m.update(zoom=zoom, shift_x=dx, shift_y=dy)
        measured = (f"{zoom:+.1%} scale and view shift {dx:+.1%} x / {dy:+.1%} y "
                    f"({dx * size[0]:+.1f}/{dy * size[1]:+.1f} px at {size[0]} px wide)")
        want = np.array([asked["zoom"], asked["dx"], asked["dy"]])
        got = np.array([zoom, dx, dy])
        if key_gray is not None:
            coherence, normal, centre = one_way(key_gray)
            m["keyframe_one_way"] = coherence
            if coherence >= t["camera_move"]["one_way_coherence"]:
                return self._camera_across(move, want, motion, normal, centre, size, coherence, t, m, issues, notes)
        if not want.any():
            band = t["camera_static"]
            amount = float(np.abs(got).max())
            m["static_motion"] = amount
            if crosses(amount, band):
                issues.append(Issue(label=FailureLabel.CAMERA_IGNORED, detail=(
                    f"CAMERA_IGNORED: asked static but measured {measured}; static tolerance {band['fail']:.0%}")))
            return score(amount, band)
        band = t["camera_move"]
        reach = float(got @ want / (want @ want))  # share of the asked move done in the asked direction
        m["camera_reach"] = reach
        if crosses(reach, band):
            issues.append(Issue(label=FailureLabel.CAMERA_IGNORED, detail=(
                f"CAMERA_IGNORED: asked {move} ({asked['zoom']:+.0%} scale, {asked['dx']:+.0%} x, "
                f"{asked['dy']:+.0%} y) but measured {measured}: {reach:+.0%} of the asked move "
                f"(threshold {band['fail']:.0%})")))
        return score(reach, band)

    @staticmethod
    def _camera_across(move, want, motion, normal, centre, size, coherence, t, m, issues, notes) -> float:
        """The move across one-way shapes: how far the shapes' centre moved along their normal, asked
        against measured (a zoom moves a horizon away from the middle; a pan along it shows nothing)."""
        point = np.array([*centre, 1.0])
        asked_px = float(normal @ (view_transform(*want, size) @ point - point)[:2])
        got_px = float(normal @ (motion @ point - point)[:2])
        m.update(across_asked_px=asked_px, across_measured_px=got_px)
        span = float(abs(normal[0]) * size[0] + abs(normal[1]) * size[1])  # the frame's extent across the shapes
        way = f"the keyframe's shapes run one way (coherence {coherence:.2f})"
        if want.any() and abs(asked_px) < t["camera_move"]["one_way_min_px"]:
            if notes is not None:
                notes.append(f"camera move not judged: {way} and the asked {move} moves them "
                             f"{asked_px:+.1f} px across (under {t['camera_move']['one_way_min_px']} px)")
            return 10.0
        if want.any():
            band, measure, value = t["camera_move"], "camera_reach", got_px / asked_px
            says = (f"asked {move}, which moves the keyframe's one-way shapes {asked_px:+.1f} px across, but they "
                    f"moved {got_px:+.1f} px: {value:+.0%} of the asked move (threshold {band['fail']:.0%})")
        else:
            band, measure, value = t["camera_static"], "static_motion", abs(got_px) / span
            says = (f"asked static but the shapes moved {got_px:+.1f} px across ({value:.1%}); "
                    f"static tolerance {band['fail']:.0%}")
        m[measure] = value
        if notes is not None:
            notes.append(f"camera judged across the shapes only: {way}")
        if crosses(value, band):
            issues.append(Issue(label=FailureLabel.CAMERA_IGNORED, detail=f"CAMERA_IGNORED: {says}"))
        return score(value, band)

    def _colour(self, first, last, start: KeyView, end: KeyView, shot, portraits, t, m, issues) -> tuple[float, float]:
        """Colour deltaE of the first and last lit frames against the keyframe as each should show it.
        Returns (character_match, scene_match): drift anywhere in the clip vs a wrong start."""
        band = t["colour_drift"]
        de_first = delta_e(first, start.image, start.mask)
        de_last = delta_e(last, end.image, end.mask)
        drift = max(de_first, de_last)
        m.update(delta_e_first=de_first, delta_e_last=de_last, colour_drift_delta_e=drift)
        if crosses(drift, band):
            issues.append(Issue(label=FailureLabel.CHARACTER_DRIFT, detail=(
                f"CHARACTER_DRIFT: colour moved deltaE {drift:.1f} from the keyframe (grid median of mean Lab; "
                f"first frame {de_first:.1f}, last frame {de_last:.1f}); threshold {band['fail']}")))
        wardrobe = self._wardrobe(shot, portraits, last, end, t, m, issues)
        return min(score(drift, band), wardrobe), score(de_first, band)

    def _wardrobe(self, shot, portraits, last, end: KeyView, t, m, issues) -> float:
        """Does the dominant subject's portrait colour survive to the last frame as much as the keyframe shows it?"""
        band = t["wardrobe"]
        path = portraits.get(shot.dominant_subject)
        master = cv2.imread(str(path)) if path and Path(path).exists() else None
        hue = subject_hue(master, band) if master is not None else None
        if hue is None:
            return 10.0  # no character, no portrait or a colourless one: nothing to measure
        before = hue_presence(end.image, hue, band, end.mask)
        m.update(subject_hue_deg=float(hue * 2), subject_presence_keyframe=before)
        if before < band["min_presence"]:
            return 10.0  # the keyframe barely shows that colour, so its absence proves nothing
        retention = hue_presence(last, hue, band, end.mask) / before
        m["wardrobe_retention"] = retention
        if crosses(retention, band):
            issues.append(Issue(label=FailureLabel.WARDROBE_DRIFT, detail=(
                f"WARDROBE_DRIFT: {shot.dominant_subject}'s portrait colour (hue {hue * 2} deg) covers {before:.1%} of "
                f"the keyframe but {retention:.0%} of that in the last frame; threshold {band['fail']:.0%}")))
        return score(retention, band)


def fit(image: np.ndarray | None, w: int, h: int) -> np.ndarray | None:
    return None if image is None else cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
