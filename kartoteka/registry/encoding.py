"""Bytes to text: byte order marks, strict UTF-8, UTF-8 with a few stray
bytes, else a guess among the legacy encodings in vocab/encodings.yml.

Order, and why:

1. A byte order mark (UTF-32 before UTF-16: the UTF-32 LE mark begins with
   the UTF-16 LE one) is the writer's own statement.
2. Strict UTF-8, unless the result is full of control characters: UTF-16
   without a mark, of ASCII or Cyrillic text, is valid UTF-8 made of NULs and
   controls.
3. UTF-8 that fails on a few isolated bytes (at most 0.1% of the bytes, or
   three in a small file) while the rest holds real multi-byte characters:
   one stray cp1252 dash in a UTF-8 Cyrillic file. The bytes become U+FFFD
   and are counted; the rest of the document stays right instead of all of
   it turning into cp1252 mojibake.
4. charset-normalizer's guess, restricted to the encodings listed in
   vocab/encodings.yml and with ties broken by their order there.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import cache

from kartoteka.vocab import VocabError, _load

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Stray bytes UTF-8 may skip: a share of the bytes, but never fewer than this.
STRAY_SHARE = 0.001
STRAY_MIN = 3
# Each stray byte must be outweighed by this many well-formed non-ASCII
# characters: a cp1252 "Café" fails UTF-8 once and has none.
STRAY_EVIDENCE = 4
# Text with more C0 control characters than this share is not really UTF-8.
CONTROL_SHARE = 0.01
# Matches this close to charset-normalizer's best count as a tie.
TIE_CHAOS = 0.01
TIE_COHERENCE = 0.05
_TEXT_CONTROLS = frozenset("\t\n\r\f\v")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name: "utf-8", "utf-16-le", "cp1251", ...
    replaced: int = 0  # undecodable bytes replaced by U+FFFD
    guessed: bool = False  # chosen by the detector, not by a mark or by UTF-8 itself


@cache
def guess_encodings() -> tuple[str, ...]:
    data = _load("encodings.yml")
    names = data.get("guess")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise VocabError("vocab/encodings.yml: key 'guess' missing or not a list of codec names")
    out: list[str] = []
    for name in names:
        try:
            out.append(codecs.lookup(name).name)
        except LookupError:
            raise VocabError(f"vocab/encodings.yml: unknown codec '{name}'") from None
    return tuple(out)


def decode(data: bytes) -> Decoded:
    for bom, enc in BOMS:
        if data.startswith(bom):
            return _with_replacement(data[len(bom) :], enc.removesuffix("-sig"), guessed=False)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        lenient = _utf8_stray(data)
        if lenient is not None:
            return lenient
    else:
        if not _mostly_controls(text):
            return Decoded(text, "ascii" if text.isascii() else "utf-8")
    return _guess(data)


def _mostly_controls(text: str) -> bool:
    controls = sum(1 for ch in text if ch < " " and ch not in _TEXT_CONTROLS)
    return controls > CONTROL_SHARE * len(text)


def _with_replacement(data: bytes, enc: str, *, guessed: bool) -> Decoded:
    """Decode, replacing bad sequences one by one so their bytes are counted."""
    decoder = codecs.getincrementaldecoder(enc)("strict")
    parts: list[str] = []
    replaced = 0
    view = memoryview(data)
    pos = 0
    while pos < len(data):
        try:
            parts.append(decoder.decode(view[pos:], final=True))
            break
        except UnicodeDecodeError as exc:
            # The decoder's buffer is discarded: restart cleanly after the bad bytes.
            decoder.reset()
            parts.append(decoder.decode(view[pos : pos + exc.start], final=True))
            parts.append("\ufffd")
            replaced += exc.end - exc.start
            pos += exc.end
            decoder.reset()
    return Decoded("".join(parts), enc, replaced, guessed)


def _utf8_stray(data: bytes) -> Decoded | None:
    """UTF-8 with a few isolated bad bytes, or None when it is not UTF-8."""
    limit = max(STRAY_MIN, int(len(data) * STRAY_SHARE))
    parts: list[str] = []
    replaced = errors = 0
    view = memoryview(data)
    pos = 0
    while True:
        try:
            parts.append(str(view[pos:], "utf-8"))
            break
        except UnicodeDecodeError as exc:
            parts.append(str(view[pos : pos + exc.start], "utf-8"))
            parts.append("\ufffd")
            replaced += exc.end - exc.start
            errors += 1
            pos += exc.end
            if replaced > limit:
                return None
    text = "".join(parts)
    evidence = sum(1 for ch in text if ch > "\x7f") - errors  # the U+FFFD added are not evidence
    if evidence < STRAY_EVIDENCE * replaced or _mostly_controls(text):
        return None
    return Decoded(text, "utf-8", replaced)


def _guess(data: bytes) -> Decoded:
    from charset_normalizer import from_bytes

    prefs = guess_encodings()
    matches = list(from_bytes(data, cp_isolation=list(prefs)))
    if not matches:
        # Nothing reads cleanly (binary data in a .txt): keep what UTF-8 can, count the rest.
        return _with_replacement(data, "utf-8", guessed=True)
    best = matches[0]

    def rank(names: list[str]) -> tuple[int, str]:
        known = [(prefs.index(n), n) for n in (_canonical(x) for x in names) if n in prefs]
        return min(known) if known else (len(prefs), _canonical(names[0]) if names else "")

    ties = [m for m in matches if m.chaos <= best.chaos + TIE_CHAOS and m.coherence >= best.coherence - TIE_COHERENCE]
    chosen = min(ties, key=lambda m: rank([m.encoding, *m.could_be_from_charset]))
    _, enc = rank([chosen.encoding, *chosen.could_be_from_charset])
    text = str(chosen)
    return Decoded(text, enc or _canonical(chosen.encoding), 0, True)


def _canonical(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name
