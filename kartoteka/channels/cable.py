"""Cables: enciphered to the addressee station, signed by the sender, numbered per link.

A cable file is one JSON object:

    {"kartoteka_cable": 1, "from", "to", "serial", "precedence", "label", "sent",
     "ciphertext": base64, "signature": base64}

The header is in clear, as a cable's routing line is (precedence decides how
fast it is handled, the label where it may go); the subject and body are
not. `ciphertext` is a `nacl.public.SealedBox` (X25519, XSalsa20-Poly1305)
to the addressee's key of the padded inner text: the header again with the
`title`, a newline, and the body. `signature` is the
sender's Ed25519 signature over the canonical JSON of everything else. The
receiver checks, in this order: addressed to it, from a known peer, signed
by that peer (E138), opens (E133), inner header equal to the outer one (so a
third station cannot re-sign another's ciphertext as its own), then the
serial: a serial already received is a replay and refused (E137); one past
a gap is reported (E139) and accepted; one filling a gap is reported as late
(E151) and accepted. Accepted cables are kept as received (still
enciphered) in the inbox and ingested with their label and precedence.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import SealedBox

from kartoteka.access.labels import Label, LabelError
from kartoteka.archive import Archive
from kartoteka.channels.sealing import atomic_write, pad, unpad
from kartoteka.channels.station import Station, check_name
from kartoteka.errors import E, InvalidInput, KartotekaError
from kartoteka.registry.readers import RawDocument

CABLE_VERSION = 1
PRECEDENCES = ("ROUTINE", "PRIORITY", "IMMEDIATE", "FLASH")
READER = "kartoteka.channels.cable.v1"
HEADER_FIELDS = ("kartoteka_cable", "from", "to", "serial", "precedence", "label", "sent")


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def check_precedence(precedence: str) -> str:
    if precedence not in PRECEDENCES:
        raise InvalidInput(E.E071, field="precedence", value=precedence, expected=", ".join(PRECEDENCES))
    return precedence


def send(station: Station, to: str, precedence: str, label: str, body: str, title: str) -> tuple[dict[str, Any], Path]:
    """Encipher, sign and file a cable to `to` in the outbox; (its header, its file)."""
    check_precedence(precedence)
    try:
        label = str(Label.parse(label))
    except LabelError as exc:
        raise InvalidInput(E.E041, reason=str(exc)) from exc
    if not body.strip():
        raise InvalidInput(E.E136, reason="the cable is empty")
    peer = station.peer(check_name(to))
    serial = station.reserve_serial(to)
    sent = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
    header: dict[str, Any] = {
        "kartoteka_cable": CABLE_VERSION,
        "from": station.name,
        "to": to,
        "serial": serial,
        "precedence": precedence,
        "label": label,
        "sent": sent,
    }
    inner = _canonical({**header, "title": title}) + b"\n" + body.encode("utf-8")
    envelope = {**header, "ciphertext": base64.b64encode(SealedBox(peer.box).encrypt(pad(inner))).decode()}
    envelope["signature"] = base64.b64encode(station.signing_key.sign(_canonical(envelope)).signature).decode()
    folder = station.path / "outbox" / to
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{serial:06d}.cable"
    atomic_write(path, json.dumps(envelope, indent=1).encode(), exclusive=True)
    return {**header, "title": title}, path


@dataclass(frozen=True)
class Opened:
    header: dict[str, Any]
    body: str
    raw: bytes

    @property
    def sender(self) -> str:
        return str(self.header["from"])

    @property
    def serial(self) -> int:
        return int(self.header["serial"])


def open_cable(station: Station, path: Path, data: bytes) -> Opened:
    """Check and decipher one cable addressed to `station` (everything but its serial)."""

    def bad(reason: str) -> KartotekaError:
        return InvalidInput(E.E150, path=path, reason=reason)

    try:
        envelope = json.loads(data)
    except ValueError as exc:
        raise bad("not JSON") from exc
    if not isinstance(envelope, dict) or envelope.get("kartoteka_cable") != CABLE_VERSION:
        raise bad("not a Kartoteka cable")
    if set(envelope) != {*HEADER_FIELDS, "ciphertext", "signature"}:
        raise bad("unexpected fields")
    if envelope["to"] != station.name:
        raise bad(f"addressed to {envelope['to']!r}")
    if not isinstance(envelope["serial"], int) or envelope["serial"] < 1:
        raise bad("bad serial")
    if envelope["precedence"] not in PRECEDENCES:
        raise bad("unknown precedence")
    try:
        sender = station.peer(str(envelope["from"]))
        signature = base64.b64decode(envelope["signature"], validate=True)
        ciphertext = base64.b64decode(envelope["ciphertext"], validate=True)
    except KartotekaError as exc:
        raise bad(f"from an unknown station ({exc.message})") from exc
    except (ValueError, TypeError) as exc:
        raise bad("bad base64") from exc
    signed = {k: v for k, v in envelope.items() if k != "signature"}
    try:
        sender.verify.verify(_canonical(signed), signature)
    except (BadSignatureError, ValueError) as exc:
        raise InvalidInput(E.E138, path=path, sender=sender.name) from exc
    try:
        inner = unpad(SealedBox(station.box_key).decrypt(ciphertext))
    except (CryptoError, ValueError) as exc:
        raise InvalidInput(E.E133, path=path) from exc
    head, _, body = inner.partition(b"\n")
    header = {k: envelope[k] for k in HEADER_FIELDS}
    try:
        inner_header = json.loads(head)
        title = str(inner_header.pop("title"))
    except (ValueError, KeyError, AttributeError) as exc:
        raise bad("the enciphered header is damaged") from exc
    if _canonical(inner_header) != _canonical(header):
        raise bad("the enciphered header differs from the signed one")
    header["title"] = title
    try:
        label = str(Label.parse(str(header["label"])))
    except LabelError as exc:
        raise bad(f"bad label ({exc})") from exc
    return Opened({**header, "label": label}, body.decode("utf-8", "replace"), data)


def document(opened: Opened) -> RawDocument:
    h = opened.header
    serial = f"{opened.serial:06d}"
    lines = [
        f"FROM: {h['from']}",
        f"TO: {h['to']}",
        f"SERIAL: {serial}",
        f"PRECEDENCE: {h['precedence']}",
        f"SENT: {h['sent']}",
    ]
    if h["title"]:
        lines.append(f"SUBJECT: {h['title']}")
    text = "\n".join(lines) + "\n\n" + opened.body
    title = f"{h['precedence']} {h['from']}-{h['to']} {serial}" + (f": {h['title']}" if h["title"] else "")
    return RawDocument(f"cable:{h['from']}-{h['to']}/{serial}", "text", READER, text, title=title)


class Receiver:
    """Receive cables into an archive as a station (the REGISTRY role: `cable receive`)."""

    def __init__(self, archive: Archive, station: Station) -> None:
        archive.require("cable receive")
        self.archive = archive
        self.station = station
        self.warnings: list[str] = []

    def run(self, paths: list[Path]) -> Iterator[dict[str, Any]]:
        """One result per file: `{"file", "from", "serial", "precedence", "label", "status", ...}`.

        `status` is `added`, `unchanged` (its text was in the archive already),
        or `error` with `error`, a one-line message; `warnings` lists gaps and
        late arrivals. A bad file never stops the others.
        """
        seen: dict[tuple[str, int], Path] = {}
        for path in paths:
            try:
                opened = open_cable(self.station, path, path.read_bytes())
            except KartotekaError as exc:
                yield {"file": str(path), "status": "error", "error": exc.message}
                continue
            except OSError as exc:
                msg = KartotekaError(E.E001, path=path, reason=exc.strerror or type(exc).__name__).message
                yield {"file": str(path), "status": "error", "error": msg}
                continue
            yield self._receive(path, opened, seen)

    def _receive(self, path: Path, opened: Opened, seen: dict[tuple[str, int], Path]) -> dict[str, Any]:
        h = opened.header
        out: dict[str, Any] = {
            "file": str(path),
            "from": opened.sender,
            "serial": opened.serial,
            "precedence": h["precedence"],
            "label": h["label"],
            "warnings": [],
        }
        arrivals = self.station.arrivals(opened.sender)
        kind = arrivals.classify(opened.serial)
        if kind == "replay" or (opened.sender, opened.serial) in seen:
            msg = KartotekaError(E.E137, path=path, serial=opened.serial, sender=opened.sender).message
            return {**out, "status": "error", "error": msg}
        if kind == "gap":
            missing = arrivals.gap_before(opened.serial)
            shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
            out["warnings"].append(
                KartotekaError(
                    E.E139, path=path, serial=opened.serial, sender=opened.sender, missing=f"serials {shown}"
                ).message
            )
        elif kind == "late":
            out["warnings"].append(
                KartotekaError(
                    E.E151, path=path, serial=opened.serial, sender=opened.sender, highest=arrivals.highest
                ).message
            )
        results = list(self.archive.ingest([document(opened)], label=h["label"], action="cable receive"))
        result = results[0]
        out.update(document_id=result.document_id, status=result.status)
        if result.status == "error":
            out["error"] = result.error
            return out
        # Kept as received, still enciphered; then the serial counts as arrived.
        folder = self.station.path / "inbox" / opened.sender
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(folder / f"{opened.serial:06d}.cable", opened.raw)
        self.station.record_arrival(opened.sender, opened.serial)
        seen[(opened.sender, opened.serial)] = path
        return out
