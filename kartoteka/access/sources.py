"""Protected sources: a cryptonym in the open, the true name sealed.

Reports cite the cryptonym. The true name is encrypted with a key kept beside
the archive (`ARCHIVE.sources-key`, mode 0600) and opened only for the
source's handler and for the registry chief (a user holding the REGISTRY
token, see `roles.py`) or the archive owner. It never enters the card index, the name
index, full-text search, exports or the audit log.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from nacl.secret import SecretBox
from nacl.utils import random

CRYPTONYM = re.compile(r"^[A-Z][A-Z0-9/-]{1,31}$")


class SourceSeal:
    def __init__(self, archive_path: Path) -> None:
        self.key_path = archive_path.with_name(archive_path.name + ".sources-key")
        self._box: SecretBox | None = None

    def _key(self) -> SecretBox:
        if self._box is None:
            if self.key_path.exists():
                key = self.key_path.read_bytes()
            else:
                key = random(SecretBox.KEY_SIZE)
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(key)
            self._box = SecretBox(key)
        return self._box

    def seal(self, source_id: str, true_name: str) -> bytes:
        # The source's id is bound in, so a sealed name cannot be moved to another
        # source, a namesake in another compartment included (a source registered
        # before schema 16 has its cryptonym for an id: its old seal still opens).
        return bytes(self._key().encrypt(f"{source_id}\x00{true_name}".encode()))

    def open(self, source_id: str, sealed: bytes) -> str:
        bound, _, name = self._key().decrypt(sealed).decode().partition("\x00")
        if bound != source_id:
            raise ValueError("sealed name belongs to another source")
        return name
