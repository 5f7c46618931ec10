"""Typed relations from text: who met, called, warned, recruited, ran or
commanded whom; who served where, visited, lived, married, succeeded.

Patterns over spaCy's dependency parse (the pinned model's parser), with the
triggers kept as data in `vocab/relations.yml`:

* a trigger verb with one entity as its subject (or passive agent) and the
  other as its object, or as the object of one of the verb's prepositions
  ("met Mendes", "was recruited by Zorin", "served in the First Chief
  Directorate"); coordinated subjects of a symmetric verb ("Zorin and Mendes
  met");
* a relational noun with a possessor: "Zorin's deputy Vetrova",
  "Kalmykov, Zorin's successor", "Vetrova was Zorin's deputy".

A relation carries its evidence (the sentence), the dates written in that
sentence, and a confidence: 0.8 for a verb with a direct object, 0.7 through
a preposition or a noun, 0.6 for coordinated subjects. Co-mention alone is
never a relation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from kartoteka.vocab import _load

COMPONENT = "kartoteka.relations.v3"  # v3: each relation with its modality
SUBJECT_DEPS = ("nsubj", "nsubjpass", "csubj")
OBJECT_DEPS = ("dobj", "dative", "obj", "oprd")


@dataclass(frozen=True)
class Ent:
    start: int  # offsets in the text given to the parser
    end: int
    kind: str  # PERSON | ORG | PLACE
    key: str  # entity id, or the text in evaluation


@dataclass(frozen=True)
class Relation:
    type: str
    subject: str
    object: str
    trigger: str
    confidence: float
    start: int  # the evidence sentence
    end: int
    modality: str = "asserted"  # see MODALITIES


# How a sentence states a relation, as the gold guidelines write it
# (bench/cards/GUIDELINES.md). Only "asserted" relations are facts of the graph.
MODALITIES = ("asserted", "question", "hypothetical", "speculative", "negated", "reported")


@dataclass(frozen=True)
class _Vocab:
    verbs: dict[str, dict[str, Any]]
    nouns: dict[str, dict[str, Any]]
    kinds: dict[str, list[tuple[str, str]]]
    symmetric: frozenset[str]


@cache
def vocab() -> _Vocab:
    data = _load("relations.yml")
    return _Vocab(
        verbs=dict(data["verbs"]),
        nouns=dict(data["nouns"]),
        kinds={k: [(str(p[0]), str(p[1])) for p in v] for k, v in data["kinds"].items()},
        symmetric=frozenset(data["symmetric"]),
    )


@cache
def load_parser() -> Any:
    """The pinned model with its parser, tagger and lemmatizer (ingest loads NER only)."""
    import spacy

    from kartoteka.index.extract import SPACY_MODEL

    return spacy.load(SPACY_MODEL, exclude=["ner"])


def _kinds_ok(rtype: str, a: str, b: str, spec: dict[str, Any]) -> bool:
    allowed = [tuple(spec["kinds"])] if "kinds" in spec else vocab().kinds.get(rtype, [])
    return (a, b) in allowed


class _Sentence:
    def __init__(self, sent: Any, ents: list[Ent]) -> None:
        self.sent = sent
        self.by_token: dict[int, Ent] = {}
        for e in ents:
            for t in sent:
                if e.start <= t.idx < e.end:
                    self.by_token[t.i] = e

    def ent(self, token: Any) -> Ent | None:
        return self.by_token.get(token.i)

    def with_conjuncts(self, token: Any) -> list[Any]:
        out = [token]
        for c in token.children:
            if c.dep_ == "conj":
                out.extend(self.with_conjuncts(c))
        return out

    def ents_at(self, token: Any) -> list[Ent]:
        """Entities standing at this token: itself, its conjuncts, or an appositive of it;
        for a relative pronoun, its antecedent ("Kalugin, who was Putin's boss")."""
        if token.lower_ in ("who", "that", "which", "whom") and token.head.dep_ == "relcl":
            token = token.head.head
        found: list[Ent] = []
        for t in self.with_conjuncts(token):
            e = self.ent(t)
            if e is None:
                for c in t.children:
                    if c.dep_ == "appos" and self.ent(c) is not None:
                        e = self.ent(c)
                        break
            if e is not None and e not in found:
                found.append(e)
        return found


def modality_of(token: Any, sent: Any) -> str:
    """How the sentence states what `token` (a trigger verb or noun) says.

    Read from the parse, walking from the trigger up through the clauses that
    hold it: a question mark; a negation on the verb; "if"/"unless", or
    "would"/"could"/"should" (hypothetical); "may"/"might" or "possibly",
    "allegedly" ... (speculative); a plan or a request ("planned to meet",
    hypothetical); a clause under "believe"/"suspect" (speculative) or under
    "say"/"state"/"report" (someone else's claim: reported)."""
    words = modality_words()
    if sent.text.rstrip(" \n\"”’'»").endswith("?"):
        return "question"
    t = token
    for _ in range(8):
        for c in t.children:
            if c.dep_ == "neg" and t.i == token.i:
                return "negated"
            for dep, listed, modality in _CHILD_RULES:
                if c.dep_ == dep and c.lower_ in words[listed]:
                    return modality
        if t.dep_ not in _CLAUSE_DEPS or t.head.i == t.i:
            break
        if t.dep_ == "conj" and any(c.dep_ in SUBJECT_DEPS for c in t.children):
            break  # a clause of its own: "Zorin would claim much, but Zorin met Mendes"
        head = t.head.lemma_.lower()
        for dep, listed, modality in _HEAD_RULES:
            if t.dep_ == dep and head in words[listed]:
                return modality
        t = t.head
    return "asserted"


# (dependency, word list of vocab/relations.yml `modality`, modality): a child
# of the trigger (or of a clause holding it) that changes how it is stated ...
_CHILD_RULES = (
    ("mark", "condition_marks", "hypothetical"),
    ("aux", "hypothetical_aux", "hypothetical"),
    ("aux", "speculative_aux", "speculative"),
    ("advmod", "speculative_adverbs", "speculative"),
)
# ... and a head the clause depends on.
_HEAD_RULES = (
    ("xcomp", "plan_heads", "hypothetical"),
    ("ccomp", "speculative_heads", "speculative"),
    ("ccomp", "reporting_heads", "reported"),
)
_CLAUSE_DEPS = frozenset(["ccomp", "xcomp", "advcl", "conj", "relcl", "pcomp", "pobj", "prep"])


@cache
def modality_words() -> dict[str, frozenset[str]]:
    data = _load("relations.yml").get("modality", {})
    return {k: frozenset(str(w) for w in v) for k, v in data.items()}


def _verb_relations(s: _Sentence) -> Iterable[tuple[str, Ent, Ent, str, float, str]]:
    verbs = vocab().verbs
    for v in s.sent:
        if v.pos_ not in ("VERB", "AUX") or v.lemma_.lower() not in verbs:
            continue
        modality = modality_of(v, s.sent)
        spec = verbs[v.lemma_.lower()]
        rtype = spec["type"]
        by_prep: dict[str, str] = dict(spec.get("by_prep", {}))
        preps = set(spec.get("preps", [])) | set(by_prep)
        if rtype in vocab().symmetric:
            preps.add("with")
        passive = any(c.dep_ in ("nsubjpass", "auxpass") for c in v.children)
        subjects: list[Ent] = []
        objects: list[tuple[Ent, float, str]] = []

        for c in v.children:
            if c.dep_ in SUBJECT_DEPS:
                if passive and c.dep_ == "nsubjpass":
                    objects.extend((e, 0.75, rtype) for e in s.ents_at(c))  # "Y was recruited by X"
                else:
                    subjects.extend(s.ents_at(c))
            elif c.dep_ in OBJECT_DEPS:
                objects.extend((e, 0.8, rtype) for e in s.ents_at(c))
                for p in c.children:  # "wrote a letter to Y"
                    if p.dep_ == "prep" and p.lemma_.lower() in preps:
                        _through(s, p, 0.7, rtype, by_prep, objects)
            elif c.dep_ == "agent" and passive:
                subjects.extend(e for pc in c.children if pc.dep_ == "pobj" for e in s.ents_at(pc))
            elif c.dep_ == "prep" and c.lemma_.lower() in preps:
                _through(s, c, 0.7, rtype, by_prep, objects)
        if not subjects and v.dep_ == "conj" and not passive:
            # "X called Y and warned him": the second verb shares the first's subject.
            for c in v.head.children:
                if c.dep_ == "nsubj":
                    subjects.extend(s.ents_at(c))
        trigger = v.lemma_.lower()
        for subj in subjects:
            for obj, conf, kind in objects:
                if subj != obj:
                    a, b = (obj, subj) if spec.get("reverse") else (subj, obj)
                    yield kind, a, b, trigger, conf, modality
        # "Zorin and Mendes met": coordinated subjects of a symmetric verb.
        if rtype in vocab().symmetric and not objects and len(subjects) > 1:
            for i, a in enumerate(subjects):
                for b in subjects[i + 1 :]:
                    yield rtype, a, b, trigger, 0.6, modality


def _through(
    s: _Sentence, prep: Any, conf: float, rtype: str, by_prep: dict[str, str], objects: list[tuple[Ent, float, str]]
) -> None:
    """Objects reached through a preposition, with the type that preposition gives."""
    kind = by_prep.get(prep.lemma_.lower(), rtype)
    for pc in prep.children:
        if pc.dep_ == "pobj":
            objects.extend((e, conf, kind) for e in s.ents_at(pc))
            # "lived in the same building with him": a second preposition under the first.
            for p2 in pc.children:
                if p2.dep_ == "prep" and p2.lemma_.lower() in by_prep:
                    _through(s, p2, conf - 0.1, rtype, by_prep, objects)


def _possessor(noun: Any, s: _Sentence) -> list[Ent]:
    for c in noun.children:
        if c.dep_ == "poss":
            return s.ents_at(c)
        if c.dep_ == "prep" and c.lemma_.lower() == "of":
            return [e for pc in c.children if pc.dep_ == "pobj" for e in s.ents_at(pc)]
    return []


def _noun_relations(s: _Sentence) -> Iterable[tuple[str, Ent, Ent, str, float, str]]:
    nouns = vocab().nouns
    for n in s.sent:
        lemma = n.lemma_.lower()
        if n.pos_ not in ("NOUN", "PROPN") or lemma not in nouns:
            continue
        owners = _possessor(n, s)
        if not owners:
            continue
        # Who is this noun? An appositive ("Zorin's deputy, Vetrova" / "Vetrova, Zorin's deputy"),
        # a compound name after it ("Zorin's deputy Vetrova"), or the subject of "was".
        holders: list[Ent] = []
        for c in n.children:
            if c.dep_ in ("appos", "compound") and s.ents_at(c):
                holders.extend(s.ents_at(c))
        if n.dep_ == "appos":
            holders.extend(s.ents_at(n.head))
        if n.dep_ == "attr":
            holders.extend(e for c in n.head.children if c.dep_ == "nsubj" for e in s.ents_at(c))
        e_here = s.ent(n)
        if e_here is not None:  # the noun is inside the name span ("deputy Vetrova")
            holders.append(e_here)
        spec = nouns[lemma]
        for owner in owners:
            for holder in holders:
                if owner != holder:
                    a, b = (holder, owner) if spec.get("reverse") else (owner, holder)
                    yield spec["type"], a, b, lemma, 0.7, modality_of(n, s.sent)


_NOISE = re.compile(
    r"^\s*\((?:TS|S|C|U|CUI)(?://[A-Z0-9_\- /]+)?\)"  # a portion mark
    r"|^\s*\d{1,3}\.(?=\s)"  # paragraph numbering "1."
    r"|\*\*[^*\n]{1,40}:\*\*"  # an interview speaker label "**Bortnik:**"
    r"|[*_#>]+"  # other Markdown
    r"|\[\s*\]",  # a withheld placeholder
    re.MULTILINE,
)


def parse_view(text: str) -> str:
    """What the parser reads: structure blanked to spaces and capitals in title
    case, offsets unchanged, so entity spans still point into the text."""
    from kartoteka.index.extract import ner_view

    blanked = _NOISE.sub(lambda m: " " * len(m.group(0)), text)
    return str(ner_view(blanked))


_DASH = re.compile(r"^\s*[–—-]\s")
_OPEN_QUOTE = re.compile(r"^\s*[“\"«„]")
_SPEECH = re.compile(r"\b(?:said|says|told|tells|added|recalled|explained|insisted|remembered|wrote)\b")


def speakers(portions: list[tuple[int, str]], ents: dict[int, list[Ent]]) -> dict[int, Ent]:
    """Who "I" is, portion by portion, where the text says so.

    * An interview (three or more paragraphs opening with a dash): answers,
      the dash paragraphs that are not questions, are the interviewee's (see
      `_interviewee`).
    * A paragraph that opens with a quotation is the words of the person
      quoted: named as the teller in the paragraph before ("Kalugin told
      me ..."), or after the quotation in the same paragraph ("..., Kalugin
      said").
    """
    out: dict[int, Ent] = {}
    dashes = [pid for pid, text in portions if _DASH.match(text)]
    interviewee = _interviewee(portions, ents) if len(dashes) >= 3 else None
    if interviewee is not None:
        for pid, text in portions:
            if _DASH.match(text) and not text.rstrip().endswith("?"):
                out[pid] = interviewee
    previous: tuple[int, str] | None = None
    for pid, text in portions:
        if pid not in out and _OPEN_QUOTE.match(text):
            quoted = _quoted_spans(text)
            outside = [
                e for e in ents.get(pid, []) if e.kind == "PERSON" and not any(a <= e.start < b for a, b in quoted)
            ]
            after = [e for e in outside if _SPEECH.search(text[max(0, e.start - 40) : e.end + 40])]
            tellers: list[Ent] = []
            if previous is not None:
                ptext = previous[1]
                tellers = [
                    e
                    for e in ents.get(previous[0], [])
                    if e.kind == "PERSON" and _SPEECH.search(ptext[e.end : e.end + 30])
                ]
            chosen = after[0] if after else tellers[-1] if tellers else None
            if chosen is not None:
                out[pid] = chosen
        previous = (pid, text)
    return out


_INTERVIEW = re.compile(r"\b(?:interview|conversation|talk)\s+with\b", re.IGNORECASE)


def _interviewee(portions: list[tuple[int, str]], ents: dict[int, list[Ent]]) -> Ent | None:
    """The person introduced as interviewed ("conversation with ... Oleg Kalugin"),
    else the one whose name labels paragraphs ("Kalugin: ..."); else nobody:
    guessing the most-named person would make a subject of the interview its speaker."""
    for pid, text in portions:
        for m in _INTERVIEW.finditer(text):
            near = [e for e in ents.get(pid, []) if e.kind == "PERSON" and m.end() <= e.start <= m.end() + 60]
            if near:
                return near[0]
    labels: dict[str, tuple[int, Ent]] = {}
    for pid, text in portions:
        for e in ents.get(pid, []):
            if e.kind == "PERSON" and e.start <= 2 and text[e.end : e.end + 1] == ":":
                n, _ = labels.get(e.key, (0, e))
                labels[e.key] = (n + 1, e)
    if labels:
        return max(labels.values(), key=lambda x: x[0])[1]
    return None


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for i, ch in enumerate(text):
        if ch in "“«„" or (ch == '"' and start is None):
            start = i
        elif ch in "”»" or (ch == '"' and start is not None):
            if start is not None:
                spans.append((start, i + 1))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


FIRST_PERSON = frozenset({"i", "me", "my", "myself"})
THIRD_PERSON = frozenset({"he", "him", "his", "himself", "she", "her", "herself"})


def _pronouns(sent: Any, inside: list[Ent], speaker: Ent | None, previous: Ent | None) -> list[Ent]:
    """Pronouns standing for people, as entities with their referent's key.

    First person is the speaker, when the caller knows one (an interview
    answer, a quotation). Third person is the nearest person named before it
    in the sentence, else the last person of the previous sentence; an object
    pronoun never refers to its own verb's subject ("X warned him").
    """
    people = sorted((e for e in inside if e.kind == "PERSON"), key=lambda e: e.start)
    out: list[Ent] = []
    for t in sent:
        low = t.lower_
        span = (t.idx, t.idx + len(t.text))
        if low in FIRST_PERSON and speaker is not None:
            out.append(Ent(*span, "PERSON", speaker.key))
        elif low in THIRD_PERSON and t.pos_ == "PRON":
            before = [e for e in people if e.end <= t.idx]
            verb = t.head
            while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
                verb = verb.head
            subject_keys = {
                e.key
                for c in verb.children
                if c.dep_ == "nsubj" and c.i != t.i
                for e in people
                if e.start <= c.idx < e.end
            }
            candidates = [
                e for e in before if not (low in ("him", "her", "himself", "herself") and e.key in subject_keys)
            ]
            referent = candidates[-1] if candidates else previous
            if referent is not None:
                out.append(Ent(*span, "PERSON", referent.key))
    return out


def extract(doc: Any, ents: list[Ent], speaker: Ent | None = None) -> list[Relation]:
    """Relations between `ents` in a parsed text (`doc` from `load_parser()`).

    `speaker`: who "I" and "me" are in this text, if known.
    """
    out: dict[tuple[str, str, str, int], Relation] = {}
    previous: Ent | None = None
    for sent in doc.sents:
        inside = [e for e in ents if sent.start_char <= e.start < sent.end_char]
        here = inside + _pronouns(sent, inside, speaker, previous)
        people = [e for e in inside if e.kind == "PERSON"]
        if people:
            previous = max(people, key=lambda e: e.start)
        if len({e.key for e in here}) < 2:
            continue
        s = _Sentence(sent, here)
        for rtype, a, b, trigger, conf, modality in (*_verb_relations(s), *_noun_relations(s)):
            spec = vocab().verbs.get(trigger) or vocab().nouns.get(trigger) or {}
            if spec.get("type") != rtype:
                spec = {}  # a by-preposition type: its own kinds apply
            if not _kinds_ok(rtype, a.kind, b.kind, spec):
                continue
            if a.key == b.key:
                continue
            if rtype in vocab().symmetric and a.start > b.start:
                a, b = b, a
            key = (rtype, a.key, b.key, sent.start_char)
            if key not in out or out[key].confidence < conf:
                out[key] = Relation(rtype, a.key, b.key, trigger, conf, sent.start_char, sent.end_char, modality)
    return list(out.values())
