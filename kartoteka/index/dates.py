"""Normalise date expressions to ISO 8601 with honest precision."""

from __future__ import annotations

import re

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for m in names
}
_YEAR = re.compile(r"\b(1[6-9]\d{2}|20\d{2})\b(?!s)")
_MONTH = re.compile(r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?", re.IGNORECASE)
_DAY = re.compile(r"\b([0-3]?\d)(?:st|nd|rd|th)?\b")
_ISO = re.compile(r"\b(1[6-9]\d{2}|20\d{2})-([01]\d)-([0-3]\d)\b")


def normalise_date(text: str) -> str | None:
    """'March 31, 2019' -> '2019-03-31'; 'in 1985' -> '1985'; 'Spring of 1991' -> '1991'.

    Returns None when no year is stated: "these days" or "the 1970s" carry no
    single year, and a guessed one would be worse than none.
    """
    iso = _ISO.search(text)
    if iso:
        return str(iso.group(0))
    years = _YEAR.findall(text)
    if len(years) != 1:
        return None
    year = str(years[0])
    month_match = _MONTH.search(text)
    if not month_match:
        return year
    month = _MONTHS[month_match.group(1).lower()]
    rest = text.replace(year, " ").replace(month_match.group(0), " ")
    day_match = _DAY.search(rest)
    if day_match and 1 <= int(day_match.group(1)) <= 31:
        return f"{year}-{month:02d}-{int(day_match.group(1)):02d}"
    return f"{year}-{month:02d}"
