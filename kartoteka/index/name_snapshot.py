"""The owner's name index, persisted beside the archive and brought up to date, not rebuilt.

Building the index analyses every name (about a minute per million names), so
a process that only checks a name maps the file `ARCHIVE.names-index`
(kartoteka/names/frozen.py) instead, in milliseconds. The file is stamped
with the archive it belongs to (a keyed id: another archive at the same path
cannot pass for this one) and with the clock of the archive's change log
(`name_changes`, schema 15, kept by triggers). On open:

- same clock: the file is the index;
- the archive's clock is ahead: the cards changed since are taken out of the
  index and read again from the store (`person_names_of`, the query a full
  build runs, limited to them); once that delta outgrows `REFREEZE` the
  index is frozen again and the file replaced, atomically;
- no file, a damaged one, another format or archive, a clock behind the
  file's (a restored backup), or readings made by another engine (its name
  vocabulary or reading code changed, `readings_fingerprint`): a full build,
  then the file is written.

Tests check the index after each path against a full rebuild.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kartoteka.index.resolve import build_name_index
from kartoteka.names.frozen import Frozen, FrozenError
from kartoteka.names.index import NameIndex
from kartoteka.names.script import readings_fingerprint
from kartoteka.store.base import Store

SUFFIX = ".names-index"
# Changed cards worth re-reading at each open before the file is rewritten:
# re-reading costs per card, rewriting per name in the archive.
REFREEZE_MIN = 1000
REFREEZE_SHARE = 0.01


def snapshot_path(side: Path) -> Path:
    return side.with_name(side.name + SUFFIX)


def _identity(store: Store) -> str:
    return store.keyed_id("names", "name-index")


def owner_index(store: Store, side: Path) -> NameIndex:
    """The index of every live person in the store, from the file where it can be."""
    path = snapshot_path(side)
    identity = _identity(store)
    # The clock first: cards changed after it are read again next time, so
    # a write landing between this read and the rows below is never missed.
    seq = store.name_change_seq()
    frozen: Frozen | None = None
    if path.exists():
        try:
            frozen = Frozen.load(path)
        except FrozenError as exc:
            print(f"warning: name index {exc}; rebuilding it", file=sys.stderr)
    # The readings stamp: a file written by an engine that read names otherwise
    # (other transcription tables, other code) holds keys this one would not
    # make, and queries would miss what a rebuild finds.
    stamp = {"archive": identity, "seq": seq, "readings": readings_fingerprint()}
    if (
        frozen is None
        or frozen.stamp.get("archive") != identity
        or int(frozen.stamp.get("seq", -1)) > seq
        or frozen.stamp.get("readings") != stamp["readings"]
    ):
        index = build_name_index(store)
        _write(index.freeze(stamp), path)
        return index
    index = NameIndex(frozen)
    since = int(frozen.stamp["seq"])
    if since == seq:
        return index
    changed = store.name_changes_since(since)
    update(index, store, changed)
    if len(changed) >= REFREEZE_MIN + REFREEZE_SHARE * frozen.n_entities:
        fresh = index.freeze(stamp)
        _write(fresh, path)
        return NameIndex(fresh)
    return index


def update(index: NameIndex, store: Store, changed: list[str]) -> None:
    """Take the changed cards out and read them again, as a full build would read them."""
    for eid in changed:
        index.discard(eid)
    for entity_id, name, mentions in store.person_names_of(changed):
        index.add(entity_id, name, mentions)


def _write(frozen: Frozen, path: Path) -> None:
    try:
        frozen.save(path)
    except OSError as exc:
        # A read-only folder: the index still answers, from memory, this once.
        print(f"warning: name index not saved to {path}: {exc.strerror or exc}", file=sys.stderr)
