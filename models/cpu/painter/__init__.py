"""The CPU animatic painter (registry name "animatic"): drawn masters and keyframes.

Split along its seams: scene (what a frame shows: setting, time, weather, props), sky (light and
weather), backdrops (one drawing per setting type), props (pictograms and shapes), looks and figure
(characters from their portraits), captions, and backend (the ImageModel the registry creates).
"""

from reel.media import CAPTION_KEY

from .backend import AnimaticImage
from .captions import camera_phrase
from .looks import look_of
from .scene import SceneDescription, describe

__all__ = ["CAPTION_KEY", "AnimaticImage", "SceneDescription", "camera_phrase", "describe", "look_of"]
