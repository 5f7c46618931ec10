"""Numbered errors, in one place.

Each error says what was expected and, where it helps, what is available.
The CLI and (later) the HTTP API render them; nothing else formats errors.
"""

from __future__ import annotations

from enum import StrEnum


class E(StrEnum):
    # Registry and ingest
    E001 = "[E001] Can't read {path}: {reason}"
    E002 = "[E002] Unsupported file type '{suffix}' for {path}. Supported: {available}"
    E003 = "[E003] {path} line {line}: expected a JSON object with 'id' and 'text' ({reason})"
    E004 = "[E004] No such file or folder: {path}"
    E005 = "[E005] {path}: no text could be extracted"
    E006 = "[E006] Can't OCR {path}: {reason}"
    E007 = "[E007] {path} is an image and OCR is off (--ocr never); use --ocr auto to read it"
    E008 = "[E008] {path} page {page}: the text layer can't be read ({reason})"
    E009 = "[E009] {path} page {page}: OCR failed ({reason}); the page is left empty"
    # Store
    E010 = "[E010] {path} is not a Kartoteka archive ({reason})"
    E011 = (
        "[E011] Archive schema version {found} is newer than this Kartoteka supports ({supported}). Upgrade Kartoteka."
    )
    # Damaged and missing archives, usage, folders (E110-E119)
    E110 = (
        "[E110] No archive at {path}. Check --archive (or $KARTOTEKA_ARCHIVE); "
        "'kartoteka --archive {path} init' creates an empty one."
    )
    E111 = "[E111] {path} is damaged ({reason}). Run 'kartoteka --archive {path} doctor'; restore a backup."
    E112 = "[E112] {path}: the database failed ({reason})"
    E113 = "[E113] {reason}"
    E114 = "[E114] Can't read folder {path}: {reason}; the files in it were not read"
    E115 = "[E115] {path}: {reason}; not read"
    E116 = "[E116] The archive check found problems: {problems}"
    E117 = "[E117] Can't open or write {path}: {reason}"
    E118 = (
        "[E118] The disk of {path} is full ({reason}). Free space and run the command again: what was stored"
        " is whole, and an ingest goes on where it stopped."
    )
    # Export, import and backup (E140-E149)
    E140 = "[E140] {path} is not a Kartoteka export ({reason})"
    E141 = "[E141] {path}: {file} does not match the manifest ({reason}); nothing was imported"
    E142 = (
        "[E142] Can't import into {path}: it is not empty ({reason}). Import into a new path, or into an"
        " archive just made by 'kartoteka init'."
    )
    E143 = "[E143] {path} was written by {found}; this Kartoteka reads {supported}"
    E144 = "[E144] {where}: {reason}; nothing was imported"
    E145 = "[E145] {path} already exists; give a new folder (nothing is overwritten)"
    E146 = "[E146] {path} is open in another process (a server, an ingest); stop it and import again"
    E147 = "[E147] {path} is not a Kartoteka backup ({reason})"
    E148 = "[E148] Can't restore to {path}: {reason}"
    # Card index and corrections
    E020 = "[E020] No entity '{ref}' in the card index. Try 'kartoteka check \"{ref}\"' to find its id."
    E021 = "[E021] '{ref}' is ambiguous; candidates: {candidates}. Use an entity id."
    E022 = "[E022] Mention {mention} does not belong to entity {entity}."
    E023 = "[E023] Can't merge an entity with itself ({entity})."
    E025 = "[E025] No document '{ref}' in the archive. 'kartoteka search' finds documents by their text."
    E024 = "[E024] Name is empty after removing titles and punctuation: '{name}'"
    # Imports and batch
    E030 = "[E030] {path} row {row}: {reason}"
    E031 = "[E031] {path}: expected columns {expected}, found {found}"
    E032 = "[E032] {path}: unknown import format; expected .csv, .json or .jsonl (FollowTheMoney)"
    # Compartments, audit, release
    E040 = "[E040] No user '{name}'. The archive owner adds users with 'kartoteka user add'."
    E041 = "[E041] Bad label or clearance: {reason}"
    E042 = "[E042] Only the archive owner can {action} (you are '{actor}')."
    E043 = "[E043] Audit log check failed: {problems}"
    E044 = "[E044] {path}: withheld text survives in the release: {found}"
    E045 = "[E045] Unknown release format '{format}'. Expected txt, html or pdf."
    E046 = "[E046] Wrong user name or password."
    E047 = "[E047] No source '{cryptonym}'."
    E048 = "[E048] Bad cryptonym '{cryptonym}': capital letters, digits, '/' or '-', 2 to 32 characters."
    E049 = "[E049] Source '{cryptonym}' already exists."
    E050 = "[E050] Bad grade or claim: {reason}"
    # Roles, writes and small leaks (E100-E109)
    E100 = (
        "[E100] To {action} you need the {role} role: be the archive owner, or a user holding "
        "the {role} token (you are '{actor}')."
    )
    E101 = (
        "[E101] {source}: it holds a portion labelled {label}, above your clearance ({clearance}); "
        "a user cleared for all of it must register it."
    )
    E102 = "[E102] Can't make '{name}' the handler of {cryptonym}: no user of that name is cleared for the source."
    E103 = (
        "[E103] --true-name on the command line is visible to every user of this machine (ps, /proc); "
        "use '--true-name -' to read it from stdin, or leave it out to be asked."
    )
    E104 = (
        "[E104] {path} is being served (pid {pid}); only the owner of the file may use the command line "
        "on it. Log in to the server instead."
    )
    # Registry: OCR modes and text encodings
    E060 = "[E060] Unknown OCR mode '{mode}'. Expected auto, always or never."
    E061 = "[E061] {path}: {count} undecodable byte(s) replaced by U+FFFD (read as {encoding})"
    E063 = "[E063] Unknown markings mode '{mode}'. Expected enforce (banners and marks are labels) or record (history only)."
    E062 = "[E062] {path}: not UTF-8; the encoding was guessed as {encoding}"
    E064 = "[E064] Ray: {reason}"
    # The HTTP server (E080-E089)
    E080 = "[E080] The request ran past its deadline of {seconds} s and was stopped. Try again later, or ask for less."
    E081 = "[E081] Too many log-in attempts. Try again in {seconds} s."
    E082 = "[E082] The archive is busy: another process is writing to it. Try again in a few seconds."
    E083 = "[E083] The server is busy. Try again in a few seconds."
    E084 = "[E084] The server is shutting down."
    E085 = "[E085] Internal error ({kind}); the server's log has the details."
    E086 = "[E086] --{option} must be a positive number of seconds, not {value}."
    E087 = "[E087] The archive's database can't be reached just now. Try again in a few seconds."
    # The web application (E120-E129)
    E120 = "[E120] The form has expired or came from another site: reload the page and try again."
    E121 = "[E121] This API token's scopes do not cover this request (it needs '{scope}')."
    E122 = "[E122] No API token {id}. 'kartoteka token list' shows the tokens."
    E127 = "[E127] {path}: the upload is too large ({reason}); split it into smaller files."
    E128 = "[E128] You already have {jobs} batch checks running: wait for one to finish, then upload again."
    E129 = "[E129] Your clearance or password changed while the batch check ran: it was stopped. Upload it again."
    # Storage locks and the audit trail (E090-E099)
    E090 = (
        "[E090] {path} is busy: another process has held its write lock for more than {seconds} s."
        " Try again (KARTOTEKA_BUSY_TIMEOUT sets the wait, in seconds)."
    )
    E091 = (
        "[E091] The audit key {path} is missing, but the audit log holds {entries} entries: restore the key"
        " from a backup (a new key would leave every signed anchor unverifiable)."
    )
    E092 = "[E092] {path} is not a Kartoteka audit trail ({reason})"
    E093 = "[E093] {path} is the audit trail of another archive: move it away, or open the archive it belongs to."
    E094 = "[E094] Can't compact the audit log: {reason}"
    # Secure channels (E130-E139): the drop, its collection, stations and cables
    E130 = "[E130] Bad codename: {reason}"
    E131 = (
        "[E131] The reply target looks like a source's codename (not repeated here). Never type a codename"
        " on the handler's side: reply to the source's cryptonym (kartoteka source list)."
    )
    E132 = "[E132] Key file {path}: {reason}"
    E133 = "[E133] {path}: can't be opened with this key (tampered, damaged, or sealed to another key)"
    E134 = "[E134] Submission refused: {reason}"
    E135 = "[E135] {path} is not a drop ({reason}); 'kartoteka drop init' makes one"
    E136 = "[E136] Station: {reason}"
    E137 = "[E137] {path}: cable {serial} from {sender} was already received (a replay); not ingested"
    E138 = "[E138] {path}: the signature is not {sender}'s (signed by another station, or altered); not ingested"
    E139 = "[E139] {path}: cable {serial} from {sender} arrived with {missing} missing before it (a gap)"
    # Secure channels, continued (E150-E159)
    E150 = "[E150] {path}: not a cable for this station ({reason}); not ingested"
    E151 = "[E151] {path}: cable {serial} from {sender} arrived late, after {highest} (out of order); ingested"
    E152 = "[E152] The archive owner collects for a handler: name them with --handler USER."
    E153 = "[E153] Source {cryptonym} is another handler's; not collected"
    # PostgreSQL archives (E160-E169)
    E160 = "[E160] {url} is not a PostgreSQL archive location ({reason})"
    E161 = "[E161] Can't reach PostgreSQL at {url}: {reason}"
    E162 = "[E162] {url}: PostgreSQL failed ({reason})"
    # E163 (doctor on SQLite only) is retired: the doctor checks PostgreSQL archives too. Not to be reused.
    E164 = (
        "[E164] {program} is not installed: a backup or restore of a PostgreSQL archive needs PostgreSQL's"
        " client programs (Debian: apt-get install postgresql-client)"
    )
    # Sources that share a cryptonym (E170-E179)
    E170 = (
        "[E170] You can't register a source labelled {label}: it is above your clearance;"
        " a registrar cleared for it must."
    )
    E171 = "[E171] {count} sources you may see are called {cryptonym}: {which}. Name one by its id (--id)."
    # Labels of facts made by hand (E070-E079)
    E070 = "[E070] Bad {field}: {reason}"
    E071 = "[E071] Unknown {field} '{value}'. Expected one of: {expected}"


class KartotekaError(Exception):
    """A domain error with a code. `status` is the HTTP status it maps to."""

    status: int = 400

    def __init__(self, err: E, **fields: object) -> None:
        self.code = err.name
        self.message = err.value.format(**fields)
        super().__init__(self.message)


class NotFound(KartotekaError):
    status = 404


class InvalidInput(KartotekaError):
    status = 422


class Forbidden(KartotekaError):
    status = 403
