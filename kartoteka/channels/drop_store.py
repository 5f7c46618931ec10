"""The drop's files: sources found by a slow hash of their codename, submissions sealed at once.

A drop is a folder, and the drop's process needs nothing else: no archive,
no archive key, only the newsroom's *public* key. It is laid out as

    DROP/drop.json                       version, newsroom public key, salt, KDF, limits
    DROP/sources/<source id>/reply.pub   the source's X25519 reply public key
    DROP/sources/<id>/submissions/<YYYY-MM-DD>-<random>.sealed
    DROP/sources/<id>/replies/<YYYY-MM-DD>-<random>.sealed
    DROP/tmp/                            sources being created

where `<source id>` is the first half of the codename's Argon2id hash
(codename.py). A submission is a small container (message and files),
padded to its size bucket and sealed to the newsroom key with a
`nacl.public.SealedBox` before it touches the disk; a reply is sealed the
same way to the source's reply key. Files are written whole or not at all
(sealing.atomic_write) and their times rounded to the day. Nothing records
who sent it, from where, with what, or when in the day.

This module and drop_app.py import nothing of the archive (store, keys,
`kartoteka.archive`): the drop runs as its own process, on its own port, and
a compromise of it yields sealed files only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import struct
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from kartoteka.channels import codename as cn
from kartoteka.channels.sealing import atomic_write, human_size, pad, sync_folder, today, unpad
from kartoteka.errors import E, InvalidInput, KartotekaError

DROP_VERSION = 1
# What one submission may hold, message and files together: 10 MiB, stated
# on the page; the HTTP body may exceed it only by the form's own overhead.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
MAX_FILE_NAME = 100
_MAGIC = b"KDS1"
_HEADER = struct.Struct(">I")


class KeyFileError(KartotekaError):
    pass


class TooLargeSubmission(InvalidInput):
    status = 413


@dataclass(frozen=True)
class Submission:
    """What a source sent, once opened by the newsroom key: a message and files, and the day."""

    day: str
    message: str
    files: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Reply:
    day: str
    text: str


def safe_name(name: str) -> str:
    """A file name as the source's browser gave it, made harmless: no folders, no dots first, no controls.

    `../../etc/passwd` becomes `passwd`, `C:\\x\\..\\evil.exe` `evil.exe`; what
    is left is letters, digits, `._- `; nothing left is `file`.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    kept = "".join(ch if (ch.isalnum() or ch in "._- ") else "_" for ch in base)
    kept = kept.strip().lstrip(".").strip()[:MAX_FILE_NAME]
    return kept or "file"


def write_key_pair(private_path: Path, kind: str) -> PublicKey:
    """A new X25519 key pair: the private key to `private_path` (mode 0600, never overwritten)."""
    key = PrivateKey.generate()
    body = json.dumps({"kind": kind, "x25519": bytes(key).hex()}).encode()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write(private_path, body, exclusive=True)
    except FileExistsError as exc:
        raise KeyFileError(E.E132, path=private_path, reason="exists already; not overwritten") from exc
    return key.public_key


def read_private_key(path: Path, kind: str) -> PrivateKey:
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise KeyFileError(E.E132, path=path, reason="missing") from exc
    except (OSError, ValueError) as exc:
        raise KeyFileError(E.E132, path=path, reason=f"unreadable ({type(exc).__name__})") from exc
    if not isinstance(data, dict) or data.get("kind") != kind or not isinstance(data.get("x25519"), str):
        raise KeyFileError(E.E132, path=path, reason=f"not a {kind}")
    try:
        return PrivateKey(bytes.fromhex(data["x25519"]))
    except (ValueError, TypeError) as exc:
        raise KeyFileError(E.E132, path=path, reason="damaged") from exc


NEWSROOM_KEY = "kartoteka newsroom private key"


def pack_submission(day: str, message: str, files: list[tuple[str, bytes]]) -> bytes:
    body = message.encode("utf-8")
    header = json.dumps(
        {"day": day, "message": len(body), "files": [{"name": n, "size": len(d)} for n, d in files]},
        ensure_ascii=False,
    ).encode("utf-8")
    return b"".join([_MAGIC, _HEADER.pack(len(header)), header, body, *(d for _, d in files)])


def unpack_submission(payload: bytes) -> Submission:
    if payload[:4] != _MAGIC or len(payload) < 8:
        raise ValueError("not a drop submission")
    (n,) = _HEADER.unpack_from(payload, 4)
    header = json.loads(payload[8 : 8 + n])
    at = 8 + n
    message = payload[at : at + int(header["message"])].decode("utf-8")
    at += int(header["message"])
    files = []
    for f in header["files"]:
        size = int(f["size"])
        files.append((safe_name(str(f["name"])), payload[at : at + size]))
        at += size
    if at != len(payload):
        raise ValueError("sizes do not add up")
    return Submission(str(header["day"]), message, tuple(files))


def open_submission(data: bytes, key: PrivateKey) -> Submission:
    """A sealed submission opened by the newsroom's private key; ValueError if it does not open whole."""
    try:
        return unpack_submission(unpad(SealedBox(key).decrypt(data)))
    except (CryptoError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from exc


def init_drop(
    path: Path, newsroom_public: PublicKey, params: cn.KdfParams | None = None, max_upload: int = MAX_UPLOAD_BYTES
) -> dict[str, Any]:
    """Make an empty drop at `path` for the newsroom's public key; an existing drop is left alone."""
    config_path = path / "drop.json"
    if config_path.exists():
        raise InvalidInput(E.E135, path=path, reason="it is a drop already; not changed")
    for sub in ("sources", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    config = {
        "version": DROP_VERSION,
        "newsroom_public_key": bytes(newsroom_public).hex(),
        "salt": secrets.token_bytes(16).hex(),
        "kdf": (params or cn.KdfParams()).as_json(),
        "max_upload_bytes": max_upload,
    }
    atomic_write(config_path, json.dumps(config, indent=2).encode(), exclusive=True)
    return config


class Drop:
    """One drop folder: the source's side (by codename) and the handler's side (by source id)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            config = json.loads((path / "drop.json").read_bytes())
            if config.get("version") != DROP_VERSION:
                raise ValueError(f"version {config.get('version')!r}")
            self.newsroom = PublicKey(bytes.fromhex(config["newsroom_public_key"]))
            self.salt = bytes.fromhex(config["salt"])
            self.params = cn.KdfParams.from_json(config["kdf"])
            self.max_upload = int(config["max_upload_bytes"])
        except FileNotFoundError as exc:
            raise InvalidInput(E.E135, path=path, reason="no drop.json") from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(E.E135, path=path, reason=f"drop.json: {exc}") from exc
        self.sources_dir = path / "sources"

    # the source's side --------------------------------------------------------
    def _derive(self, codename: str) -> cn.Derived:
        return cn.derive(codename, self.salt, self.params)

    def _create(self, derived: cn.Derived) -> bool:
        """Make the source's folder in one rename; False if it exists already (the same codename)."""
        day = today()
        tmp = self.path / "tmp" / secrets.token_hex(16)
        tmp.mkdir(mode=0o700)
        try:
            (tmp / "submissions").mkdir(mode=0o700)
            (tmp / "replies").mkdir(mode=0o700)
            reply_pub = PrivateKey.from_seed(derived.reply_seed).public_key
            atomic_write(tmp / "reply.pub", bytes(reply_pub), day=day)
            for sub in ("submissions", "replies"):
                sync_folder(tmp / sub, day)
            sync_folder(tmp, day)
            try:
                os.rename(tmp, self.sources_dir / derived.source_id)
            except OSError:  # a non-empty folder of that name: ENOTEMPTY or EEXIST
                return False
            sync_folder(self.sources_dir, day)
            return True
        finally:
            if tmp.exists():
                for p in sorted(tmp.rglob("*"), reverse=True):
                    p.rmdir() if p.is_dir() else p.unlink()
                tmp.rmdir()

    def new_source(self, choice: Callable[[tuple[str, ...]], str] = secrets.choice, attempts: int = 16) -> str:
        """A new source: a fresh codename whose folder did not exist. A collision draws again."""
        for _ in range(attempts):
            codename = cn.generate(choice=choice)
            if self._create(self._derive(codename)):
                return codename
        # 16 collisions in a row at 90 bits means the generator is broken, not unlucky.
        raise RuntimeError("could not draw an unused codename")

    def check_codename(self, text: str) -> str:
        try:
            return cn.normalise(text)
        except ValueError as exc:
            raise InvalidInput(E.E130, reason=str(exc)) from exc

    def submit(self, codename: str, message: str, files: list[tuple[str, bytes]]) -> None:
        """Seal a submission to the newsroom key and store it under the codename's source.

        A well-formed codename the drop has not seen becomes a source here, so
        that no answer tells whether a codename exists.
        """
        canonical = self.check_codename(codename)
        kept = [(safe_name(n), d) for n, d in files if d]
        if not message.strip() and not kept:
            raise InvalidInput(E.E134, reason="it is empty: write a message or attach a file")
        if len(kept) > MAX_FILES:
            raise InvalidInput(E.E134, reason=f"more than {MAX_FILES} files")
        size = len(message.encode("utf-8")) + sum(len(d) for _, d in kept)
        if size > self.max_upload:
            raise TooLargeSubmission(E.E134, reason=f"larger than the drop's limit of {human_size(self.max_upload)}")
        derived = self._derive(canonical)
        folder = self.sources_dir / derived.source_id
        if not folder.exists():
            self._create(derived)  # False: made by a request with the same codename meanwhile
        day = today()
        sealed = SealedBox(self.newsroom).encrypt(pad(pack_submission(day.isoformat(), message, kept)))
        atomic_write(folder / "submissions" / f"{day.isoformat()}-{secrets.token_hex(16)}.sealed", sealed, day=day)

    def replies(self, codename: str) -> list[Reply]:
        """The replies to a codename, opened with the key only it derives; none for an unknown one."""
        derived = self._derive(self.check_codename(codename))
        folder = self.sources_dir / derived.source_id / "replies"
        if not folder.is_dir():
            return []
        box = SealedBox(PrivateKey.from_seed(derived.reply_seed))
        out = []
        for path in sorted(folder.glob("*.sealed")):
            try:
                text = unpad(box.decrypt(path.read_bytes())).decode("utf-8")
            except (CryptoError, ValueError, OSError):
                continue  # a damaged reply is the newsroom's to resend; the source sees the others
            out.append(Reply(path.name[:10], text))
        return out

    # the handler's side -------------------------------------------------------
    def source_ids(self) -> list[str]:
        return sorted(p.name for p in self.sources_dir.iterdir() if p.is_dir() and len(p.name) == 64)

    def submissions(self, source_id: str) -> list[Path]:
        return sorted((self.sources_dir / source_id / "submissions").glob("*.sealed"))

    def reply_files(self, source_id: str) -> list[Path]:
        return sorted((self.sources_dir / source_id / "replies").glob("*.sealed"))

    def add_reply(self, source_id: str, text: str) -> Path:
        """Seal a reply to the source's reply key (only its codename opens it) and store it."""
        folder = self.sources_dir / source_id
        reply_pub = PublicKey((folder / "reply.pub").read_bytes())
        day = today()
        path = folder / "replies" / f"{day.isoformat()}-{secrets.token_hex(16)}.sealed"
        atomic_write(path, SealedBox(reply_pub).encrypt(pad(text.encode("utf-8"))), day=day)
        return path


def day_of(path: Path) -> str:
    """The day in a sealed file's name (all the drop keeps of when)."""
    name = path.name[:10]
    dt.date.fromisoformat(name)
    return name
