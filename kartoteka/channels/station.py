"""Stations: a name, an X25519 key to be enciphered to, an Ed25519 key to sign with, and peers.

A station is a folder:

    STATION/station.json        name and public keys (what `station export` gives a peer)
    STATION/station.key         the private keys (mode 0600; never leaves the station)
    STATION/peers/<NAME>.json   imported public keys of other stations
    STATION/links/<NAME>.out    the next serial on the link to NAME
    STATION/links/<NAME>.in     what has arrived from NAME: the highest serial and the gaps below it
    STATION/outbox/<NAME>/      cables sent, as sent (enciphered to NAME: unreadable here)
    STATION/inbox/<NAME>/       cables received, as received (enciphered)

Keys are exchanged out of band: `station export` writes the public half,
the peer runs `station import` and should compare the fingerprint over a
second channel (a telephone call), as one would a PGP key.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from kartoteka.channels.sealing import atomic_write
from kartoteka.errors import E, InvalidInput, KartotekaError

STATION_NAME = re.compile(r"^[A-Z][A-Z0-9-]{1,31}$")
PUBLIC_KIND = "kartoteka station public keys"
PRIVATE_KIND = "kartoteka station private keys"


def check_name(name: str) -> str:
    if not STATION_NAME.match(name):
        raise InvalidInput(E.E136, reason=f"bad station name {name!r}: capital letters, digits, '-', 2 to 32")
    return name


def fingerprint(box: PublicKey, verify: VerifyKey) -> str:
    """What two stations read to each other to check a key exchange: 32 hex digits in groups of four."""
    digest = hashlib.blake2b(bytes(box) + bytes(verify), digest_size=16).hexdigest().upper()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True)
class Peer:
    name: str
    box: PublicKey
    verify: VerifyKey

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.box, self.verify)

    def as_json(self) -> dict[str, str]:
        return {
            "kind": PUBLIC_KIND,
            "name": self.name,
            "x25519": bytes(self.box).hex(),
            "ed25519": bytes(self.verify).hex(),
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_json(cls, data: Any) -> Peer:
        try:
            if data.get("kind") != PUBLIC_KIND:
                raise ValueError("not a station's public keys")
            peer = cls(
                check_name(data["name"]),
                PublicKey(bytes.fromhex(data["x25519"])),
                VerifyKey(bytes.fromhex(data["ed25519"])),
            )
        except KartotekaError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(E.E136, reason=f"public key file: {exc}") from exc
        if "fingerprint" in data and data["fingerprint"] != peer.fingerprint:
            raise InvalidInput(E.E136, reason="public key file: its fingerprint does not match its keys")
        return peer


@dataclass
class Arrivals:
    """What has arrived on one link: the highest serial and the serials below it still missing."""

    highest: int = 0
    missing: tuple[int, ...] = ()

    def classify(self, serial: int) -> str:
        """`next`, `gap` (serials skipped before it), `late` (fills a gap) or `replay`."""
        if serial == self.highest + 1:
            return "next"
        if serial > self.highest + 1:
            return "gap"
        return "late" if serial in self.missing else "replay"

    def accept(self, serial: int) -> None:
        if serial > self.highest:
            self.missing = (*self.missing, *range(self.highest + 1, serial))
            self.highest = serial
        else:
            self.missing = tuple(s for s in self.missing if s != serial)

    def gap_before(self, serial: int) -> list[int]:
        return list(range(self.highest + 1, serial))


class Station:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            public = json.loads((path / "station.json").read_bytes())
        except FileNotFoundError as exc:
            raise InvalidInput(E.E136, reason=f"no station at {path}; 'kartoteka station create' makes one") from exc
        except (OSError, ValueError) as exc:
            raise InvalidInput(E.E136, reason=f"{path / 'station.json'} is damaged") from exc
        self.name = check_name(str(public.get("name", "")))
        key_path = path / "station.key"
        try:
            private = json.loads(key_path.read_bytes())
            if private.get("kind") != PRIVATE_KIND:
                raise ValueError("not a station's private keys")
            self.box_key = PrivateKey(bytes.fromhex(private["x25519"]))
            self.signing_key = SigningKey(bytes.fromhex(private["ed25519_seed"]))
        except FileNotFoundError as exc:
            raise KartotekaError(E.E132, path=key_path, reason="missing: this station cannot read or sign") from exc
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KartotekaError(E.E132, path=key_path, reason="damaged") from exc
        me = Peer.from_json(public)
        if me.box != self.box_key.public_key or me.verify != self.signing_key.verify_key:
            raise KartotekaError(E.E132, path=key_path, reason="does not match station.json")

    @classmethod
    def create(cls, path: Path, name: str) -> Station:
        check_name(name)
        if (path / "station.json").exists():
            raise InvalidInput(E.E136, reason=f"{path} is a station already; not changed")
        for sub in ("peers", "links", "outbox", "inbox"):
            (path / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        box, signing = PrivateKey.generate(), SigningKey.generate()
        private = {"kind": PRIVATE_KIND, "name": name, "x25519": bytes(box).hex(), "ed25519_seed": bytes(signing).hex()}
        atomic_write(path / "station.key", json.dumps(private).encode(), exclusive=True)
        public = Peer(name, box.public_key, signing.verify_key).as_json()
        atomic_write(path / "station.json", json.dumps(public, indent=2).encode(), exclusive=True)
        return cls(path)

    def public(self) -> Peer:
        return Peer(self.name, self.box_key.public_key, self.signing_key.verify_key)

    # peers ------------------------------------------------------------------
    def peer(self, name: str) -> Peer:
        path = self.path / "peers" / f"{check_name(name)}.json"
        try:
            return Peer.from_json(json.loads(path.read_bytes()))
        except FileNotFoundError as exc:
            raise InvalidInput(E.E136, reason=f"no peer {name}: 'kartoteka station import' its public keys") from exc
        except ValueError as exc:
            raise InvalidInput(E.E136, reason=f"{path} is damaged") from exc

    def peers(self) -> list[Peer]:
        return [self.peer(p.stem) for p in sorted((self.path / "peers").glob("*.json"))]

    def import_peer(self, data: Any, replace: bool = False) -> Peer:
        """Add a peer's public keys; changing a known peer's keys needs `replace` (a new key is news)."""
        peer = Peer.from_json(data)
        if peer.name == self.name:
            raise InvalidInput(E.E136, reason=f"{peer.name} is this station itself")
        path = self.path / "peers" / f"{peer.name}.json"
        if path.exists() and not replace:
            known = self.peer(peer.name)
            if known != peer:
                raise InvalidInput(
                    E.E136, reason=f"{peer.name}'s keys differ from those imported before; check, then --replace"
                )
            return known
        atomic_write(path, json.dumps(peer.as_json(), indent=2).encode())
        return peer

    # links ------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One station's link state is changed by one process at a time."""
        fd = (self.path / "links" / ".lock").open("a")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fd.close()

    def reserve_serial(self, to: str) -> int:
        """The next serial to `to`, reserved before the cable is written: a send that dies after
        this leaves a gap the addressee reports, never two cables under one serial."""
        path = self.path / "links" / f"{check_name(to)}.out"
        with self._locked():
            serial = int(json.loads(path.read_bytes())["next"]) if path.exists() else 1
            atomic_write(path, json.dumps({"next": serial + 1}).encode())
        return serial

    def arrivals(self, sender: str) -> Arrivals:
        path = self.path / "links" / f"{check_name(sender)}.in"
        if not path.exists():
            return Arrivals()
        data = json.loads(path.read_bytes())
        return Arrivals(int(data["highest"]), tuple(int(s) for s in data["missing"]))

    def record_arrival(self, sender: str, serial: int) -> None:
        with self._locked():
            state = self.arrivals(sender)
            state.accept(serial)
            path = self.path / "links" / f"{sender}.in"
            atomic_write(path, json.dumps({"highest": state.highest, "missing": list(state.missing)}).encode())
