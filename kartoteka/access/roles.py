"""Roles: who may change the archive, in one place.

Reading is governed by labels (`policy.py`); writing by roles. A role is a
token held in a user's clearance, beside the compartment tokens, and the
archive owner holds every role. A write is refused before it reads
anything, so the refusal depends only on the author, never on what the
archive holds.

- `REGISTRY`: registers documents (`ingest`), imports known persons
  (`import`), registers protected sources and is their registry chief.
- `ANALYST`: corrects the card index (`merge`, `split`, `alias`), grades
  documents (`grade`) and records claims (`claim`).
- `RELEASE`: releases a classified document to a lower audience (a
  declassification).
- `HANDLER`: collects submissions from the drop (registering each new drop
  source under a cryptonym it handles, and ingesting what it sent) and
  replies to those sources (`kartoteka drop collect`, `drop reply`).

Everything else that writes (users, relation extraction, derived claims,
audit verification) is the owner's alone.
"""

from __future__ import annotations

from kartoteka.access.labels import Clearance

REGISTRY = "REGISTRY"
ANALYST = "ANALYST"
RELEASE = "RELEASE"
HANDLER = "HANDLER"

ROLES: dict[str, str] = {
    REGISTRY: "registers documents, imports known persons and runs the source registry",
    ANALYST: "corrects the card index, grades documents and records claims",
    RELEASE: "releases classified documents to a lower audience",
    HANDLER: "collects drop submissions and replies to drop sources",
}

# The role each write needs, and how an error names the write, by the name the
# CLI gives the action: the one table `Context.require` reads.
ACTIONS: dict[str, tuple[str, str]] = {
    "ingest": (REGISTRY, "register documents"),
    "import": (REGISTRY, "import known persons"),
    "source add": (REGISTRY, "register protected sources"),
    "merge": (ANALYST, "merge cards"),
    "split": (ANALYST, "split cards"),
    "alias": (ANALYST, "add aliases"),
    "grade": (ANALYST, "grade documents"),
    "claim": (ANALYST, "record claims"),
    "drop collect": (HANDLER, "collect drop submissions"),
    "drop reply": (HANDLER, "reply to drop sources"),
    # Not a write, but a handler's desk: what the drop sent and what was replied.
    "drop list": (HANDLER, "list drop submissions and replies"),
    "cable receive": (REGISTRY, "register received cables"),
}


def holds(clearance: Clearance, role: str) -> bool:
    """The owner holds every role; anyone else the roles among their tokens."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")  # a programming error, not input
    return clearance.everything or role in clearance.tokens


def role_for(action: str) -> tuple[str, str]:
    """(role, what the action does) of a write."""
    if action not in ACTIONS:
        raise ValueError(f"no role is defined for {action!r}")  # a programming error, not input
    return ACTIONS[action]
