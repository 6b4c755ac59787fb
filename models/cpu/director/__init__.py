"""The offline director (registry name "heuristic"): rules, tables and gazetteers, no model.

Split along its seams: text (phrase matching), places (gazetteer and narration language),
lexicon (prompts in other languages), setting (place, time, weather, things, action), cast,
shots, narration (lines, music, logline) and backend (the Director the registry creates).
"""

from .backend import HeuristicDirector
from .cast import find_cast
from .facts import scene_of
from .places import detect_language, detect_locale
from .setting import time_of_day

__all__ = ["HeuristicDirector", "detect_language", "detect_locale", "find_cast", "scene_of", "time_of_day"]
