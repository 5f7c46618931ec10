"""Where an archive is: a SQLite file, or a PostgreSQL database (and schema) named by a URL.

`--archive` takes either. A URL is `postgresql://USER[:PASSWORD]@HOST[:PORT]/DB`
with two optional query parameters of Kartoteka's own, taken out before the
rest goes to libpq:

- `schema=NAME` (default `kartoteka`): the PostgreSQL schema holding the
  archive; its audit trail is the schema `NAME_trail` beside it. One database
  can hold several archives.
- `keys=DIR`: the local folder for the archive's side files (else
  `$KARTOTEKA_KEYS`, else `~/.local/share/kartoteka/keys`).

The side files of a SQLite archive lie beside it (`ARCHIVE.audit-key`,
`.sources-key`, `.audit-anchors`, `.audit-segments`). Those of a PostgreSQL
archive lie in the keys folder under the name `HOST-PORT-DB-SCHEMA`: the
keys must never be in the database they protect (whoever can read the
database would open sealed true names and forge anchors), and the anchors
are what proves the trail in the database was not rewritten by whoever
can write to it. `side_path` gives that stand-in path; everything that names
a side file (the audit log, the sources' seal, export and import) uses it
as it uses a SQLite archive's path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kartoteka.errors import E, KartotekaError

SCHEMES = ("postgresql://", "postgres://")
DEFAULT_SCHEMA = "kartoteka"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,50}$")
_DERIVED = ("_trail", "_sessions")

Location = Path | str


def is_postgres(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(SCHEMES)


def parse(url: str) -> tuple[str, str, Path]:
    """(libpq URL, schema, keys folder) of a postgresql:// location; E160 for a bad one."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in ("schema", "keys")}
    schema = ours.get("schema", DEFAULT_SCHEMA)
    if not _SCHEMA_NAME.match(schema):
        raise KartotekaError(E.E160, url=display(url), reason=f"schema '{schema}' is not a lower-case identifier")
    if schema.endswith(_DERIVED):
        # NAME_trail and NAME_sessions are the schemas of archive NAME's trail and credentials.
        raise KartotekaError(
            E.E160,
            url=display(url),
            reason=f"schema '{schema}' ends in {' or '.join(_DERIVED)}, kept for an archive's own",
        )
    if not parts.path.strip("/"):
        raise KartotekaError(E.E160, url=display(url), reason="it names no database (postgresql://HOST/DB)")
    keys = ours.get("keys") or os.environ.get("KARTOTEKA_KEYS") or str(Path.home() / ".local/share/kartoteka/keys")
    rest = urlencode([(k, v) for k, v in query if k not in ours])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment)), schema, Path(keys)


def display(url: str) -> str:
    """The URL as printed in messages: never with its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def side_path(target: Location) -> Path:
    """The path whose companions (`PATH.audit-key` ...) are the archive's side files."""
    if not is_postgres(target):
        return Path(target)
    url = str(target)
    _libpq, schema, keys = parse(url)
    parts = urlsplit(url)
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", parts.hostname or "local")
    db = re.sub(r"[^A-Za-z0-9_.-]", "_", parts.path.strip("/"))
    keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    return keys / f"{host}-{parts.port or 5432}-{db}-{schema}"


def exists(target: Location) -> bool:
    """Is there an archive here (a file; a schema holding a Kartoteka archive)?"""
    if not is_postgres(target):
        return Path(target).exists()
    from kartoteka.store.postgres_pool import archive_exists

    return archive_exists(str(target))
