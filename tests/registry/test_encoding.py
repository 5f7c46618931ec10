"""Text encodings: byte order marks, Cyrillic legacy encodings, UTF-8 with a
stray byte, and Western text as before."""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path

import pytest

from kartoteka.registry.encoding import decode, guess_encodings
from kartoteka.registry.readers import RawDocument, ReadError, read_path, read_stdin

# Written for these tests: fictional, a few lines, as a detector needs.
RUSSIAN = (
    "Генерал Олег Данилович Калугин прибыл в Лиссабон весной семьдесят седьмого года.\n"
    "Его встретил резидент Аркадий Павлович Зорин, и они долго говорили о новом источнике.\n"
    "На следующий день Калугин уехал в Мадрид, а Зорин отправил шифровку в Центр.\n"
)
WESTERN = "François Müller met the journalist at the Café Brasileira — a naïve choice, said Zorin.\n"


def read_one(path: Path) -> RawDocument | ReadError:
    [item] = list(read_path(path))
    return item


@pytest.mark.parametrize(
    ("data", "encoding", "guessed"),
    [
        (codecs.BOM_UTF16_LE + RUSSIAN.encode("utf-16-le"), "utf-16-le", False),
        (codecs.BOM_UTF16_BE + RUSSIAN.encode("utf-16-be"), "utf-16-be", False),
        (codecs.BOM_UTF32_LE + RUSSIAN.encode("utf-32-le"), "utf-32-le", False),
        (codecs.BOM_UTF8 + RUSSIAN.encode("utf-8"), "utf-8", False),
        (RUSSIAN.encode("utf-8"), "utf-8", False),
        (RUSSIAN.encode("utf-16-le"), "utf-16-le", True),
        (RUSSIAN.encode("utf-16-be"), "utf-16-be", True),
        (RUSSIAN.encode("cp1251"), "cp1251", True),
        (RUSSIAN.encode("koi8-r"), "koi8-r", True),
    ],
    ids=["utf16le-bom", "utf16be-bom", "utf32le-bom", "utf8-bom", "utf8", "utf16le", "utf16be", "cp1251", "koi8r"],
)
def test_cyrillic_in_every_encoding(tmp_path: Path, data: bytes, encoding: str, guessed: bool) -> None:
    (tmp_path / "r.txt").write_bytes(data)
    doc = read_one(tmp_path / "r.txt")
    assert isinstance(doc, RawDocument)
    assert doc.text == RUSSIAN and doc.encoding == encoding and doc.replaced == 0
    assert doc.reader == "kartoteka.reader.text.v2"
    if guessed and encoding != "utf-8":
        [warning] = doc.warnings
        assert warning.startswith("[E062]") and str(tmp_path / "r.txt") in warning and encoding in warning
    else:
        assert doc.warnings == ()


def test_utf16_without_bom_of_plain_english() -> None:
    text = "Zorin met Mendes at least four times in the spring of 1977, each time at the Cafe Brasileira.\n"
    d = decode(text.encode("utf-16-le"))
    assert (d.text, d.encoding, d.guessed) == (text, "utf-16-le", True)


def test_one_stray_byte_in_utf8_cyrillic_is_replaced_not_mojibake(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_bytes(RUSSIAN.encode("utf-8") + b"\x97")
    doc = read_one(tmp_path / "r.txt")
    assert isinstance(doc, RawDocument)
    assert doc.text == RUSSIAN + "\ufffd" and doc.encoding == "utf-8" and doc.replaced == 1
    [warning] = doc.warnings
    assert warning.startswith("[E061]") and "1 undecodable byte" in warning and "r.txt" in warning
    assert "\n" not in warning


def test_stray_bytes_in_the_middle_are_counted() -> None:
    lines = RUSSIAN.encode("utf-8").split(b"\n")
    d = decode(b"\n".join([lines[0] + b"\x97", lines[1] + b"\xff\xfe", *lines[2:]]))
    assert d.encoding == "utf-8" and d.replaced == 3 and d.text.count("\ufffd") == 3
    assert "Калугин" in d.text and "Зорин" in d.text


def test_many_bad_bytes_are_not_utf8() -> None:
    # Cyrillic cp1251 fails UTF-8 at nearly every letter: a guess, not replacement.
    d = decode(RUSSIAN.encode("cp1251"))
    assert d.replaced == 0 and d.encoding == "cp1251"


def test_ascii_and_cp1252_western_text_still_right(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"Oleg Kalugin met Arkady Zorin in Lisbon.\n")
    ascii_doc = read_one(tmp_path / "a.txt")
    assert isinstance(ascii_doc, RawDocument)
    assert ascii_doc.encoding == "ascii" and ascii_doc.warnings == () and "Kalugin" in ascii_doc.text
    (tmp_path / "w.txt").write_bytes(WESTERN.encode("cp1252"))
    western = read_one(tmp_path / "w.txt")
    assert isinstance(western, RawDocument)
    assert western.text == WESTERN and western.encoding == "cp1252" and western.replaced == 0
    assert western.warnings[0].startswith("[E062]")
    # A lone cp1252 dash in otherwise ASCII text is cp1252, not a replaced byte.
    d = decode(b"Zorin met Mendes \x97 twice.\n")
    assert (d.text, d.encoding) == ("Zorin met Mendes — twice.\n", "cp1252")


def test_markdown_and_stdin_use_the_same_decoding(tmp_path: Path) -> None:
    (tmp_path / "r.md").write_bytes(RUSSIAN.encode("koi8-r"))
    doc = read_one(tmp_path / "r.md")
    assert isinstance(doc, RawDocument) and doc.format == "markdown" and doc.text == RUSSIAN
    [from_stdin] = list(read_stdin(io.BytesIO(codecs.BOM_UTF16_LE + RUSSIAN.encode("utf-16-le"))))
    assert isinstance(from_stdin, RawDocument)
    assert from_stdin.text == RUSSIAN and from_stdin.encoding == "utf-16-le" and from_stdin.source == "-"


def test_jsonl_is_utf8_and_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    good = json.dumps({"id": "r1", "text": RUSSIAN}, ensure_ascii=False).encode("utf-8")
    bad = json.dumps({"id": "r2", "text": "Зорин"}, ensure_ascii=False).encode("cp1251")
    path = tmp_path / "c.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + good + b"\n" + bad + b"\n" + good.replace(b"r1", b"r3") + b"\n")
    out = list(read_path(path))
    assert [type(o).__name__ for o in out] == ["RawDocument", "ReadError", "RawDocument"]
    first, err, third = out
    assert isinstance(first, RawDocument) and first.text == RUSSIAN and first.encoding == "utf-8"
    assert isinstance(err, ReadError) and err.source == f"{path}:2"
    assert err.message.startswith("[E003]") and "line 2" in err.message and "not UTF-8" in err.message
    assert isinstance(third, RawDocument) and third.source == "r3"
    # On stdin too, and a UTF-16 pipe with a mark is re-encoded rather than refused.
    piped = list(read_stdin(io.BytesIO(codecs.BOM_UTF16_LE + (good + b"\n").decode().encode("utf-16-le"))))
    assert isinstance(piped[0], RawDocument) and piped[0].text == RUSSIAN


def test_binary_data_decodes_with_replacements_not_an_exception() -> None:
    d = decode(bytes(range(256)) * 8)
    assert d.replaced > 0 and d.text


def test_guess_list_is_valid_codecs() -> None:
    names = guess_encodings()
    assert "cp1251" in names and "koi8-r" in names and names.index("cp1252") < names.index("cp1250")
