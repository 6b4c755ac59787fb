"""One pydantic model per JSON table in prompts/ and configs/: what each key holds, so a typo or a
wrong type fails `tests/test_tables.py` with the file and the key, not a render. reel/prompts.py
maps each file to its table here (SCHEMAS) and checks it when first read.

Keys that start with `_` are notes for people (`_doc`, `_note`) and are not checked. Every model
forbids keys it does not name: a misspelt key is an error, not a silent default. By folder:
prompt_tables.py and animatic_tables.py (prompts/), config_tables.py (configs/), on the base in
table.py.
"""

from reel.table_schemas.animatic_tables import Animatic, MusicPreview
from reel.table_schemas.config_tables import Costs, Delivery, ModelConfig, QcThresholds, Strategies
from reel.table_schemas.prompt_tables import (CameraVerbs, Characters, DayPeriods, DirectorLexicon, DirectorRules,
                                              ImagePrompts, Locales, Narration)

__all__ = ["Animatic", "CameraVerbs", "Characters", "Costs", "DayPeriods", "Delivery", "DirectorLexicon",
           "DirectorRules", "ImagePrompts", "Locales", "ModelConfig", "MusicPreview", "Narration", "QcThresholds",
           "Strategies"]
