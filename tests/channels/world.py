"""What the channel tests share: a drop with a cheap hash, its newsroom key, an archive with a handler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kartoteka.access.roles import HANDLER, REGISTRY
from kartoteka.archive import Archive
from kartoteka.channels.codename import KdfParams
from kartoteka.channels.drop_store import MAX_UPLOAD_BYTES, NEWSROOM_KEY, Drop, init_drop, write_key_pair

# Argon2id at its floor, so a test makes hundreds of sources in seconds; the
# drop records it in drop.json. The default profile is tested on its own.
CHEAP = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class World:
    drop_path: Path
    key: Path
    archive: Path

    @property
    def drop(self) -> Drop:
        return Drop(self.drop_path)


def make_drop(tmp: Path, max_upload: int = MAX_UPLOAD_BYTES) -> tuple[Path, Path]:
    key = tmp / "newsroom.key"
    public = write_key_pair(key, NEWSROOM_KEY)
    drop = tmp / "drop"
    init_drop(drop, public, params=CHEAP, max_upload=max_upload)
    return drop, key


def make_world(tmp: Path, max_upload: int = MAX_UPLOAD_BYTES) -> World:
    drop, key = make_drop(tmp, max_upload)
    path = tmp / "a.db"
    owner = Archive(path)
    try:
        owner.add_user("handler", "S", ["HUM", HANDLER])
        owner.add_user("other", "S", ["HUM", HANDLER])
        owner.add_user("clerk", "U", [])
        owner.add_user("reader", "TS", ["HUM"])  # cleared for everything, holding no role
        owner.add_user("registry", "S", ["HUM", REGISTRY])
        owner.add_user("lowhandler", "U", [HANDLER])  # the role without the clearance
    finally:
        owner.close()
    return World(drop, key, path)


def as_user(world: World, user: str | None) -> Archive:
    return Archive(world.archive, user=user)
