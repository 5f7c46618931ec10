"""The author of an ingest who is not the archive owner, and what they may see.

A write's answer is computed only from what its author may see. For an
ingest that means: a text equal to a stored document counts as "unchanged"
only if the author sees that document whole (else the answer would confirm
the hidden part of a guess); otherwise it is stored as the author's own copy
under an id of its own, exactly as if the other did not exist. The author
registers only what they are cleared to read in full, so their own copies
are always whole to them. Resolution runs against the author's view
(`kartoteka.index.resolve.AuthorView`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kartoteka.access.labels import Clearance
from kartoteka.index.resolve import AuthorView


@dataclass(frozen=True)
class Author:
    name: str
    clearance: Clearance
    sees_whole: Callable[[str], bool]  # document id -> may the author see every portion of it
    view: AuthorView

    @property
    def scope(self) -> str:
        """What an author's copy is keyed with besides its text: who wrote it, cleared for what.

        A copy is made only when another document of the same text is not
        whole to this author; under the same scope it would be whole, so two
        copies never share an id.
        """
        return f"{self.name}\x00{self.clearance.key}"
