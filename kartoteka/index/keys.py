"""Index keys for organisations and places: what the card index joins them by.

People are looked up through the name index (`kartoteka.names.index`);
organisations and places by one exact key of their casefolded label.
"""

from __future__ import annotations

import re


def plain_label_key(text: str) -> str:
    t = re.sub(r"['’]s\b", "", text.casefold())
    t = re.sub(r"^the\s+", "", t)
    return "o:" + re.sub(r"\W+", " ", t).strip()
