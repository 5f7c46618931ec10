"""Resolve mentions into card-index entities. Component "kartoteka.resolve.v1".

Two passes, both conservative:

1. Within a document, mentions are clustered: a family name alone joins the
   nearest earlier full name with that family name ("Oleg Kalugin" ...
   "Kalugin"); an address form joins the one person whose given name and
   patronymic fit ("Oleg Danilovich"); Cyrillic and Latin spellings meet
   through their transliteration keys ("Калугин").
2. Across documents, a cluster joins an existing entity only when family
   names agree exactly on some reading and given names agree or are
   equivalent. A different given name ("Vladimir" / "Pyotr" Popov) or a
   different family name (Kalugin / Kalinin) always makes a new entity.

Analyst corrections are respected: pinned mentions are never moved, and
entities an analyst split apart are never joined again.

Every decision is read from what the readers of the mentions it moves may
see, whoever ingests (the owner too): within a document, a mention is drawn
only by mentions its readers see; across documents, a cluster is matched by
the names of its own that every reader of any of its mentions sees, against
the names of each card from sources (passages, imported records, analysts'
aliases) those readers all see. So which card a visible mention joins, and
which visible mentions share a card, is the same whatever the archive hides
from their readers. An author who is not the archive owner also resolves
against their own view (`AuthorView`): a mention joins only a card they may
see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from kartoteka.access.labels import Label, readers_see
from kartoteka.index.card_sources import CardSources, alias_form
from kartoteka.index.keys import plain_label_key
from kartoteka.names.compare import compare_names
from kartoteka.names.index import NameIndex
from kartoteka.names.lexicon import sex_of
from kartoteka.names.parse import NameToken, ParsedName, given_classes, parse_name
from kartoteka.names.schemes import letter_reading
from kartoteka.names.script import is_cyrillic
from kartoteka.store.base import Store
from kartoteka.vocab import offices

COMPONENT = "kartoteka.resolve.v1"
KIND_PREFIX = {"PERSON": "per", "ORG": "org", "PLACE": "pla", "CRYPTONYM": "cry"}


def entity_id_for(store: Store, kind: str, document_id: str, start: int, end: int) -> str:
    # Keyed with the archive's secret: from a bare hash of the first mention a
    # viewer could tell whether a card's first mention is one they can see.
    return store.keyed_id(KIND_PREFIX[kind], f"{document_id}:{start}-{end}")


def same_token(a: NameToken, b: NameToken) -> bool:
    """Whether two tokens share a reading. A transcription by German, French, Spanish
    or Italian rules counts only against a Cyrillic spelling (as in `match_tokens`):
    between two Latin names it makes different people one ("Perret" and "Perez" are
    both Пере by French rules, "Martins" and "Martin" both Мартен)."""
    schemes_b: dict[str, list[str]] = {}
    for k, s in b.keys:
        schemes_b.setdefault(k, []).append(s)
    for k, sa in a.keys:
        for sb in schemes_b.get(k, ()):
            if (letter_reading(sa) and letter_reading(sb)) or "cyrillic" in (sa, sb):
                return True
    return False


def given_compatible(a: NameToken, b: NameToken) -> bool:
    if a.is_initial or b.is_initial:
        return a.initial == b.initial
    return same_token(a, b) or bool(given_classes(a) & given_classes(b))


def office_of(p: ParsedName) -> set[int]:
    """The offices (vocab/offices.yml) a name is written with ("President Kennedy")."""
    table = offices()
    return {table[t] for t in (t.casefold().rstrip(".") for t in p.titles) if t in table}


def given_conflicts(p: ParsedName, names: Iterable[ParsedName]) -> bool:
    """Does a given name or initial of `p` contradict one of `names` with the same
    family name ("Ivan Petrov" and "A. Petrov")? Either may be any of a person's names."""
    if not p.given or p.surname is None:
        return False
    return any(
        q.given
        and q.surname is not None
        and same_token(q.surname, p.surname)
        and not given_compatible(q.given[0], p.given[0])
        for q in names
    )


def completeness(p: ParsedName) -> int:
    return (2 if p.surname else 0) + sum(1 for g in p.given if not g.is_initial) + (1 if p.patronymic else 0)


def display_rank(p: ParsedName) -> tuple[bool, bool, bool, int]:
    """Which of a person's names to show: a full name, in Latin script (the
    interface and most records are English), not in OCR capitals, fullest."""
    text = p.display
    return (p.is_full, not is_cyrillic(text), not text.isupper(), completeness(p))


@dataclass(eq=False)  # clusters are compared by identity
class Cluster:
    best: ParsedName
    mentions: list[int] = field(default_factory=list)  # indexes into the document's mention list
    forms: dict[str, None] = field(default_factory=dict)  # ordered set of surface forms
    parsed: list[ParsedName] = field(default_factory=list)

    @property
    def display(self) -> ParsedName:
        # Among equally good names, the one the document uses most.
        counts = Counter(p.display for p in self.parsed)
        return max(self.parsed, key=lambda p: (display_rank(p), counts[p.display]))

    def sex_seen_from(self, idx: int, sees: Callable[[int, int], bool] | None) -> str | None:
        """The sex the cluster's names say, read only from mentions that the
        readers of mention `idx` may see (`sees(other, idx)`): a hidden
        "Mrs. Kennedy" must not keep a visible "Kennedy" off a visible card."""
        for m, p in zip(self.mentions, self.parsed, strict=True):
            if sees is None or sees(m, idx):
                s = sex_of(p)
                if s is not None:
                    return s
        return None

    def add(self, idx: int, p: ParsedName, form: str) -> None:
        self.mentions.append(idx)
        self.forms[form] = None
        self.parsed.append(p)
        if fuller(p, self.best):
            self.best = p

    def seen_from(self, idx: int, sees: Callable[[int, int], bool] | None) -> list[ParsedName]:
        """The cluster's names that the readers of mention `idx` may see."""
        return [q for m, q in zip(self.mentions, self.parsed, strict=True) if sees is None or sees(m, idx)]

    def best_seen_from(self, idx: int, sees: Callable[[int, int], bool] | None) -> ParsedName | None:
        """The fullest of the cluster's names that the readers of mention `idx` may see."""
        if sees is None:
            return self.best
        return fullest(q for m, q in zip(self.mentions, self.parsed, strict=True) if sees(m, idx))


def fuller(p: ParsedName, than: ParsedName) -> bool:
    """Is `p` a better name of a person than `than`: more complete, or as complete and not in capitals."""
    if completeness(p) != completeness(than):
        return completeness(p) > completeness(than)
    # "A. Petrov" says more than "Petrov": its initial keeps it off an Ivan Petrov.
    if len(p.given) != len(than.given):
        return len(p.given) > len(than.given)
    return than.display.isupper() and not p.display.isupper()


def fullest(names: Iterable[ParsedName]) -> ParsedName | None:
    best: ParsedName | None = None
    for p in names:
        if best is None or fuller(p, best):
            best = p
    return best


def cluster_people(names: list[tuple[int, str]], sees: Callable[[int, int], bool] | None = None) -> list[Cluster]:
    """Cluster one document's person mentions, given in text order as (index, text).

    `sees(a, b)`: whether the readers of mention b's passage may see mention
    a's; what decides where b goes is read only from mentions they may see."""
    clusters: list[Cluster] = []
    last_seen: dict[int, int] = {}
    # Family-name key -> clusters holding a mention with that key. Long OCR
    # documents have thousands of mentions; scanning every cluster for each
    # mention would be quadratic.
    by_surname: dict[str, list[Cluster]] = {}
    for idx, text in names:
        p = parse_name(text)
        if p.is_empty:
            continue
        target: Cluster | None = None
        if p.surname is not None:
            seen: set[int] = set()
            fitting = []
            for key, _ in p.surname.keys:
                for c in by_surname.get(key, ()):
                    if id(c) not in seen:
                        seen.add(id(c))
                        fitting.append(c)
            # A shared key is not always a shared name (`same_token`).
            fitting = [c for c in fitting if any(q.surname and same_token(q.surname, p.surname) for q in c.parsed)]
            if p.given:
                # A full name or initials must fit the cluster's given name, as
                # this mention's readers see the cluster (a hidden "Pavel Zorin"
                # must not keep a visible "Arkady Zorin" off a visible "Zorin").
                # Every name they see counts, not only the fullest: "Petrov",
                # "A. Petrov" is no cluster for "Ivan Petrov".
                fitting = [c for c in fitting if not given_conflicts(p, c.seen_from(idx, sees))]
            sex = sex_of(p)
            if sex is not None:
                # "Mrs. Kennedy" does not join "John F. Kennedy" of the same page.
                fitting = [c for c in fitting if c.sex_seen_from(idx, sees) in (None, sex)]
            if not p.given:
                fitting = _surname_fits(p, fitting, idx, sees)
            if sees is not None:
                # Only what this mention's readers may see draws it: a cluster
                # they see no mention of, or a later hidden mention, must not.
                seen_at = {id(c): next((m for m in reversed(c.mentions) if sees(m, idx)), -1) for c in fitting}
                fitting = [c for c in fitting if seen_at[id(c)] >= 0]
                if fitting:
                    target = max(fitting, key=lambda c: seen_at[id(c)])
            elif fitting:
                target = max(fitting, key=lambda c: last_seen[id(c)])
        elif p.given and p.patronymic is not None:
            # An address form ("Oleg Danilovich") joins the one person of the
            # document whose given name and patronymic fit, among those its
            # readers see, by the names they see.
            fitting = []
            for c in clusters:
                shown = c.best_seen_from(idx, sees)
                if (
                    shown is not None
                    and shown.given
                    and given_compatible(shown.given[0], p.given[0])
                    and (shown.patronymic is None or same_token(shown.patronymic, p.patronymic))
                ):
                    fitting.append(c)
            if len(fitting) == 1:
                target = fitting[0]
        elif p.given or p.patronymic is not None:
            # A lone given name ("John", "Oleg") is no evidence of whom it
            # names: the document's only John may be another John, or a
            # first name in passing. It stays a mention of no card; so does a
            # lone patronymic.
            continue
        if target is None:
            target = Cluster(best=p)
            clusters.append(target)
        target.add(idx, p, alias_form(text))
        if p.surname is not None:
            for key, _ in p.surname.keys:
                bucket = by_surname.setdefault(key, [])
                if target not in bucket:
                    bucket.append(target)
        last_seen[id(target)] = idx
    return clusters


def _surname_fits(
    p: ParsedName, fitting: list[Cluster], idx: int, sees: Callable[[int, int], bool] | None
) -> list[Cluster]:
    """Which clusters a family name without a given name (bare or titled) may join,
    as the readers of mention `idx` see them. The nearest of two named people
    is no evidence ("Fidel Castro ... Raul Castro ... Mr. Castro"): with two or more
    named clusters of the family name it joins only one with no given name. An
    office ("President Kennedy") joins a named person only when they are named
    with that office too: a relative or namesake may be the page's only one named
    in full (Robert Kennedy in a record about the President)."""
    named = [c for c in fitting if any(q.given for q in c.seen_from(idx, sees))]
    unnamed = [c for c in fitting if c not in named]
    office = office_of(p)
    if office:
        holders = [c for c in named if any(office & office_of(q) for q in c.seen_from(idx, sees))]
        return holders + unnamed if len(holders) == 1 else unnamed
    return unnamed if len(named) > 1 else fitting


def _match_score(best: ParsedName, names: list[ParsedName]) -> float:
    """How well a cluster's name fits a card known by `names`: 1.0 full names agree, 0.9 a
    given name and patronymic agree, 0.8 one side knows only the family name, 0 no fit."""
    has_full = any(n.is_full for n in names)
    if given_conflicts(best, names):
        # A given name or initial the card contradicts: another person of the
        # family name ("Ivan Petrov" and a card "A. Petrov"), whatever else fits.
        return 0.0
    office = office_of(best) if not best.given else set()
    if office and any(n.given for n in names) and not any(office & office_of(n) for n in names):
        # "President Kennedy" of one record is not the Robert Kennedy of another
        # unless he is named with that office (as within a document).
        return 0.0
    score = 0.0
    for n in names:
        if best.surname and n.surname:
            if not same_token(best.surname, n.surname):
                continue
            if best.is_full and n.is_full:
                if given_compatible(best.given[0], n.given[0]) and compare_names(best, n).score >= 0.9:
                    score = max(score, 1.0)
            elif not (best.is_full and has_full):
                # One side knows only the family name: join only if it is
                # unambiguous (the caller checks over all candidates).
                score = max(score, 0.8)
        elif (
            best.surname is None
            and best.given
            and best.patronymic
            and n.given
            and n.patronymic
            and compare_names(best, n).score >= 0.85
        ):
            score = max(score, 0.9)
    return score


@dataclass(frozen=True)
class AuthorView:
    """The card index as an author other than the owner may see it: which cards are
    theirs to join. The name index handed to the resolver must hold only names they
    may see; which names weigh in a match is read from the store (`CardSources`).
    """

    entity_visible: Callable[[str], bool]


class Resolver:
    """Joins a document's people to the card index, conservatively.

    Candidates come from the name index; the store stays the truth, so a
    candidate the store no longer holds (a rolled-back batch) is ignored.
    With a `view`, only cards in it are candidates (see `AuthorView`). The
    index is asked for the best among the cards a cluster's readers see
    (`NameIndex.search(accept=...)`), so hidden namesakes never take their
    places, however many there are.
    """

    def __init__(self, store: Store, names: NameIndex | None = None, view: AuthorView | None = None) -> None:
        self.store = store
        self.names = names if names is not None else build_name_index(store)
        self.view = view
        # Cards this resolver made during the ingest: the author's own.
        self._made: set[str] = set()

    def _visible(self, entity_id: str) -> bool:
        return self.view is None or entity_id in self._made or self.view.entity_visible(entity_id)

    def _match_person(
        self,
        cluster: Cluster,
        here: Mapping[str, list[tuple[int, str]]] | None = None,
        sees: Callable[[int, int], bool] | None = None,
        readers: list[Label] | None = None,
    ) -> str | None:
        """The card a document's cluster joins, or None for a new one.

        `readers`: the reader label of each of the cluster's mentions (see
        `resolve`). The cluster is matched by its names that all its readers
        see, first against the cards with a source they all see, by those
        sources' names only (hidden namesakes are not counted when a match is
        judged ambiguous), and only failing those against the cards with no
        source they all see.

        `here`: the cards this document already made or joined, with their
        (mention index, form); a card of one sex there is not joined by a
        cluster of the other ("John Karlow" ... "Mrs. Karlow"), read from the
        mentions the cluster's readers may see (`sees`). Cards of other
        documents are not judged by sex: their names may come from passages
        above this mention's readers."""
        first = cluster.mentions[0]
        if sees is None:
            best: ParsedName | None = cluster.best
        else:
            shared = {m for m in cluster.mentions if all(sees(m, other) for other in cluster.mentions)}
            best = fullest(q for m, q in zip(cluster.mentions, cluster.parsed, strict=True) if m in shared)
        if best is None:
            return None  # no name of the cluster that all its readers see: nothing to match by
        sex = cluster.sex_seen_from(first, sees)
        # Enough candidates to see ambiguity: two equal winners join neither. The family
        # name alone is asked too: a full-name query passes over a card's short names
        # when the card has a full name, and that full name may be one the readers
        # may not see (which must not keep them from a card they see as "Zorin").
        queries: list[str | ParsedName] = [best]
        if best.surname is not None and best.given:
            queries.append(best.surname.text)
        sources = CardSources(self.store, readers)

        def fits(eid: str, names: list[ParsedName]) -> float:
            if sex is not None and here and eid in here:
                theirs = {sex_of(parse_name(f)) for i, f in here[eid] if sees is None or sees(i, first)}
                if theirs - {None, sex}:
                    return 0.0
            return _match_score(best, names)

        # First the cards the readers see, by the names they see. Failing those, a card
        # none of whose sources all the readers see: joining it or making a new card
        # looks the same to them (a card holding only this mention of what they see),
        # and those who see its sources see what the match was made by. Each pool is
        # searched by itself, so that its 50 best are of its own cards: cards the
        # readers may not see never take the places of those they see.
        # In the pool of cards the readers see, a card is ranked by the names they see
        # of it only (`by_name`): a hidden alias must not place it among the 50.
        Pool = tuple[Callable[[str], list[ParsedName]], Callable[[str, str], bool] | None]
        seen: Pool = (sources.seen, None if readers is None else sources.shows)
        pools: list[Pool] = [seen] if readers is None else [seen, (sources.unseen, None)]
        for names_of, by_name in pools:

            def accept(
                records: list[tuple[str, str]],
                names_of: Callable[[str], list[ParsedName]] = names_of,
                by_name: Callable[[str, str], bool] | None = by_name,
            ) -> set[tuple[str, str]]:
                sources.read(e for e, _ in records)
                return {
                    (e, name)
                    for e, name in records
                    if names_of(e) and self._visible(e) and (by_name is None or by_name(e, name))
                }

            found = {h.entity_id for q in queries for h in self.names.search(q, limit=50, accept=accept)}
            scored = [(score, eid) for eid in sorted(found) if (score := fits(eid, names_of(eid))) > 0]
            if scored:
                top = max(sc for sc, _ in scored)
                winners = [e for sc, e in scored if sc == top]
                # Several people fit equally well: conservative, so join none of them.
                # (Choosing the card the collection names most often would decide by
                # counts that include passages above the readers of this mention.)
                return winners[0] if len(winners) == 1 else None
        return None

    def resolve(
        self,
        document_id: str,
        mentions: list[tuple[int, int, int, str, str]],
        labels: dict[int, Label] | None = None,
        document_label: Label | None = None,
    ) -> list[str | None]:
        """Entity ids for (portion_seq, start, end, text, kind) mentions of one document,
        as `relabel_people` gives them (ingest stores the kinds it gives, too).

        `labels` (portion seq → governing label) and `document_label` keep what
        is inferred about a mention to what its readers may see: a reader of a
        mention is one who may read its document and its passage."""
        out: list[str | None] = [None] * len(mentions)
        people = [(i, m[3]) for i, m in enumerate(mentions) if m[4] == "PERSON"]
        reader: dict[int, Label] = {}
        if labels is not None:
            for i, m in enumerate(mentions):
                own = labels.get(m[0], document_label)
                if own is not None:
                    reader[i] = own if document_label is None else Label.join([document_label, own])

        def sees(a: int, b: int) -> bool:
            """May every reader of mention b see mention a?"""
            if b not in reader:
                return True
            return a in reader and readers_see(reader[b], reader[a])

        rule = sees if labels is not None else None
        here: dict[str, list[tuple[int, str]]] = {}
        for cluster in cluster_people(people, rule):
            readers = [reader[m] for m in cluster.mentions] if rule is not None and reader else None
            eid = self._match_person(cluster, here, rule, readers)
            first = mentions[cluster.mentions[0]]
            if eid is None:
                eid = entity_id_for(self.store, "PERSON", document_id, first[1], first[2])
                self.store.create_entity(eid, "PERSON", cluster.display.display, "extracted")
                self._made.add(eid)
                self.names.add(eid, cluster.display.display, len(cluster.mentions))
            else:
                current = self.store.entity(eid)
                if (
                    current is not None
                    and current.origin == "extracted"
                    and display_rank(cluster.display) > display_rank(parse_name(current.name))
                ):
                    self.store.set_entity_name(eid, cluster.display.display)
                    self.names.add(eid, cluster.display.display, len(cluster.mentions))
            # A lone given name ("Oleg") is kept as a mention but is too weak
            # to be an alias: it would make every Oleg a candidate.
            names = [(f, "mention") for f in cluster.forms if completeness(parse_name(f)) != 1 or parse_name(f).surname]
            self.store.add_names(eid, names)
            for form, _ in names:
                self.names.add(eid, form, len(cluster.mentions))
            for i in cluster.mentions:
                out[i] = eid
                here.setdefault(eid, []).append((i, mentions[i][3]))
        for i, (_, start, end, text, kind) in enumerate(mentions):
            if kind in ("PERSON", "NORP"):
                continue  # a NORP span that names no person of the document is no entity
            key = plain_label_key(text)
            if key == "o:":
                continue
            found = [e for e in self.store.entities_for_keys([key], kind) if self._visible(e)]
            if found:
                eid = found[0]
            else:
                eid = entity_id_for(self.store, kind, document_id, start, end)
                self.store.create_entity(eid, kind, alias_form(text), "extracted")
                self.store.add_keys(eid, [key])
                self._made.add(eid)
            self.store.add_names(eid, [(alias_form(text), "mention")])
            out[i] = eid
        return out


def relabel_people(
    mentions: list[tuple[int, int, int, str, str]], labels: dict[int, Label] | None = None
) -> list[tuple[int, int, int, str, str]]:
    """The English model often tags a lone family name as ORG or GPE ("Trump",
    "Navalny"). Within one document, a single-word ORG/PLACE span that is the
    family name of a person mentioned there is that person.

    With `labels`, only a person named in a portion that every reader of the
    span's own portion may see counts: a full name in a hidden paragraph must
    not turn a visible "Bortnik" into a person (that would tell its readers
    the hidden paragraph names one)."""
    surnames: dict[str, list[int]] = {}
    for m in mentions:
        if m[4] == "PERSON":
            p = parse_name(m[3])
            if p.surname is not None and p.given:
                surnames.setdefault(p.surname.text.casefold(), []).append(m[0])
    if not surnames:
        return mentions

    def evidenced(m: tuple[int, int, int, str, str]) -> bool:
        seqs = surnames.get(m[3].casefold())
        if not seqs:
            return False
        if labels is None or m[0] not in labels:
            return True
        own = labels[m[0]]
        return any(readers_see(own, labels.get(q, own)) for q in seqs)

    return [
        (m[0], m[1], m[2], m[3], "PERSON") if m[4] != "PERSON" and " " not in m[3] and evidenced(m) else m
        for m in mentions
    ]


def build_name_index(store: Store) -> NameIndex:
    """The name index of every live person in the store."""
    index = NameIndex()
    for entity_id, name, mentions in store.person_names():
        index.add(entity_id, name, mentions)
    return index
