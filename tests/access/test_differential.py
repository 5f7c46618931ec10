"""Compartments, differentially: a U user gets the same bytes from an archive
with hidden material as from one without it, on every read path.

Each scenario is one kind of hidden material from the issue "Compartments
hardening": a hidden paragraph, a hidden document, a hidden person, a hidden
relation, a hidden mention of a visible person, a hidden speaker behind "I",
and a watch-list person whom a hidden document names.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartoteka.store.location import Location
from tests.access.differential import Doc, World, build, first_difference, make_base, read_everything
from tests.backends import Where

REPORT = Doc(
    "report.txt",
    "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n\n"
    "(U) Zorin later wrote about the Lisbon station and its officers.\n\n"
    "(U) Duarte Mendes published an article about Zorin in 1979.\n",
)
CABLE = Doc(
    "cable.txt",
    "(U) Duarte Mendes travelled to Porto on 4 April 1978 and met Grigory Bortnik there.\n",
)
# The report with a hidden paragraph between its visible ones.
REPORT_WITH_SECRET = Doc(
    "report.txt",
    "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n\n"
    "(S//HUM) The agent Boris Kovalenko reported that Zorin recruited Ivan Petrov in Vienna in 1975.\n\n"
    "(U) Zorin later wrote about the Lisbon station and its officers.\n\n"
    "(U) Duarte Mendes published an article about Zorin in 1979.\n",
)
SECRET_CABLE = Doc(
    "secret.txt",
    "(S//HUM) General Oleg Sokolov met Arkady Zorin and Duarte Mendes secretly in Vienna on 3 May 1979.\n\n"
    "(S//HUM) Sokolov recruited Duarte Mendes in Lisbon; Mendes met Zorin again in Porto.\n",
    "S:HUM",
)
# An interview whose interviewee is named only in a hidden paragraph: "I" in
# the visible answers is him.
INTERVIEW_OPEN = Doc(
    "interview.txt",
    "(U) — When did you come to Vienna?\n\n"
    "(U) — I recruited Ivan Petrov in Vienna in 1975.\n\n"
    "(U) — I met Anna Kovacs there in 1976.\n\n"
    "(U) — Who else did you meet?\n",
)
INTERVIEW_HIDDEN_SPEAKER = Doc(
    "interview.txt",
    "(S//HUM) A conversation with Boris Sokolov, recorded in Vienna in 1993.\n\n"
    "(U) — When did you come to Vienna?\n\n"
    "(U) — I recruited Ivan Petrov in Vienna in 1975.\n\n"
    "(U) — I met Anna Kovacs there in 1976.\n\n"
    "(U) — Who else did you meet?\n",
)

# A paged report whose middle page is all hidden.
PAGED_OPEN = Doc(
    "paged.txt",
    "(U) Arkady Zorin met Duarte Mendes in Lisbon in March 1977.\n\f(U) Zorin left Lisbon in 1979.\n",
    paged=True,
)
PAGED_HIDDEN_PAGE = Doc(
    "paged.txt",
    "(U) Arkady Zorin met Duarte Mendes in Lisbon in March 1977.\n"
    "\f(S//HUM) Boris Kovalenko reported on Zorin from Vienna.\n"
    "\f(U) Zorin left Lisbon in 1979.\n",
    paged=True,
)

# A teller named in one paragraph, quoted in the next; a hidden paragraph
# between them must not change what a U reader is told the quotation says.
TELLER_OPEN = Doc(
    "teller.txt",
    "(U) Arkady Zorin told me the following about his years in Vienna.\n\n"
    "(U) “I recruited Ivan Petrov in Vienna in 1975,” the colonel went on.\n",
)
TELLER_HIDDEN_BETWEEN = Doc(
    "teller.txt",
    "(U) Arkady Zorin told me the following about his years in Vienna.\n\n"
    "(S//HUM) Boris Kovalenko was present and took notes.\n\n"
    "(U) “I recruited Ivan Petrov in Vienna in 1975,” the colonel went on.\n",
)
# An interview introduced in the open, with a hidden introduction before it.
INTERVIEW_MARKED = Doc(
    "interview2.txt",
    "(U) A conversation with Arkady Zorin, recorded in Vienna in 1993.\n\n"
    "(U) — When did you come to Vienna?\n\n"
    "(U) — I recruited Ivan Petrov in Vienna in 1975.\n\n"
    "(U) — I met Anna Kovacs there in 1976.\n\n"
    "(U) — Who else did you meet?\n",
)
INTERVIEW_MARKED_HIDDEN_FIRST = Doc(
    "interview2.txt",
    "(S//HUM) An interview with Boris Sokolov, recorded in Vienna in 1993.\n\n"
    "(U) A conversation with Arkady Zorin, recorded in Vienna in 1993.\n\n"
    "(U) — When did you come to Vienna?\n\n"
    "(U) — I recruited Ivan Petrov in Vienna in 1975.\n\n"
    "(U) — I met Anna Kovacs there in 1976.\n\n"
    "(U) — Who else did you meet?\n",
)

SEEN_DINNER = Doc("a.txt", "(U) The station reported that Mr. Zorin had dinner with Mr. Mendes at the embassy.\n")
SEEN_LUNCH = Doc("b.txt", "(U) The station reported that Mr. Zorin had lunch with Mr. Mendes at the hotel.\n")

NAMES = [
    "Arkady Zorin",
    "Kennedy",
    "John Kennedy",
    "Tichborn",
    "Zorin",
    "Duarte Mendes",
    "Grigory Bortnik",
    "Boris Kovalenko",
    "Ivan Petrov",
    "Oleg Sokolov",
    "Boris Sokolov",
    "Anna Kovacs",
    "Viktor Orlov",
]
WORDS = ["Zorin", "Mendes", "Lisbon", "Vienna", "recruited", "Kovalenko", "Sokolov", "secretly", "Porto", "agent"]


@pytest.fixture(scope="module")
def base(where: Where, tmp_path_factory: pytest.TempPathFactory) -> Location:
    """Every test here runs on SQLite and on PostgreSQL (tests/backends.py)."""
    return make_base(tmp_path_factory.mktemp("base"), where)


SCENARIOS = {
    "hidden paragraph in a visible document": (World([REPORT, CABLE]), World([REPORT_WITH_SECRET, CABLE])),
    "hidden document naming visible people": (World([REPORT, CABLE]), World([REPORT, CABLE, SECRET_CABLE])),
    "hidden document first": (World([REPORT, CABLE]), World([SECRET_CABLE, REPORT, CABLE])),
    "hidden speaker behind 'I'": (World([INTERVIEW_OPEN, CABLE]), World([INTERVIEW_HIDDEN_SPEAKER, CABLE])),
    "hidden page": (World([PAGED_OPEN]), World([PAGED_HIDDEN_PAGE])),
    "hidden paragraph between a teller and the quotation": (World([TELLER_OPEN]), World([TELLER_HIDDEN_BETWEEN])),
    "hidden introduction before an interview": (World([INTERVIEW_MARKED]), World([INTERVIEW_MARKED_HIDDEN_FIRST])),
    # The model tags a lone surname as an organisation; a full name elsewhere
    # in the document makes it a person, but only a full name its readers see.
    # A hidden full name makes the card of a visible surname store that full
    # name; lists must still order it by the name the viewer is shown.
    "hidden full name stored on a visible card": (
        World([Doc("met.txt", "(U) Colonel Zorin met Duarte Mendes in Lisbon in 1977.\n")]),
        World(
            [
                Doc(
                    "met.txt",
                    "(S//HUM) Colonel Arkady Zorin arrived.\n\n(U) Colonel Zorin met Duarte Mendes in Lisbon in 1977.\n",
                )
            ]
        ),
    ),
    "hidden full name of a visible surname": (
        World([Doc("pay.txt", "(U) The report says Mendes paid Bortnik.\n")]),
        World(
            [
                Doc(
                    "pay.txt",
                    "(U) The report says Mendes paid Bortnik.\n\n(S//HUM) Grigory Bortnik was recruited in Vienna.\n",
                )
            ]
        ),
    ),
    # Found by the hostile review of the evidence and sex rules: a hidden
    # woman's title, or a hidden namesake, must not move a visible surname.
    "hidden wife of a visible namesake": (
        World([Doc("k.txt", "(U) John Kennedy met the consul in Rome.\n\n(U) Kennedy was seen at the embassy.\n")]),
        World(
            [
                Doc(
                    "k.txt",
                    "(U) John Kennedy met the consul in Rome.\n\n(S//HUM) Mrs. Kennedy telephoned the source."
                    "\n\n(U) Kennedy was seen at the embassy.\n",
                )
            ]
        ),
    ),
    "hidden evidence for a visible name": (
        World([Doc("t.txt", "(U) The report was read by Tichborn at the desk.\n")]),
        World(
            [
                Doc("t.txt", "(U) The report was read by Tichborn at the desk.\n"),
                Doc("h.txt", "(S//HUM) Mr. Tichborn of the consulate met the source.\n", "S:HUM"),
            ]
        ),
    ),
    # Resolution across documents: two hidden namesakes ("Arkady Zorin",
    # "Nikolai Zorin") made a visible "Mr. Zorin" ambiguous, so the two visible
    # mentions got a card each, where without them they share one. A match is
    # now judged only by names from sources the mentions' readers see.
    "hidden namesakes make a visible surname ambiguous": (
        World([SEEN_DINNER, SEEN_LUNCH]),
        World(
            [
                Doc("h1.txt", "(S//HUM) Arkady Zorin met Duarte Mendes in Lisbon in 1977.\n", "S:HUM"),
                Doc("h2.txt", "(S//HUM) Nikolai Zorin met Duarte Mendes in Lisbon in 1977.\n", "S:HUM"),
                SEEN_DINNER,
                SEEN_LUNCH,
            ]
        ),
    ),
    # Found by the hostile review: a hidden "Nikolai Zorin" joined the visible
    # "Mr. Zorin" card, whose full name then hid its short name from the search
    # for the visible "Arkady Zorin" (a name index passes over a card's short names
    # when it has a full one), which made a card of its own. Candidates are now also
    # sought by the family name alone.
    "a hidden full name hides a visible surname from a visible full name": (
        World([SEEN_DINNER, Doc("c.txt", "(U) Arkady Zorin met Duarte Mendes in Lisbon in 1977.\n")]),
        World(
            [
                SEEN_DINNER,
                Doc("h.txt", "(S//HUM) Nikolai Zorin met Duarte Mendes in Lisbon in 1977.\n", "S:HUM"),
                Doc("c.txt", "(U) Arkady Zorin met Duarte Mendes in Lisbon in 1977.\n"),
            ]
        ),
    ),
    "watch-list person named in a hidden document": (
        World([REPORT], imports=[("watch-1", "Oleg Sokolov")]),
        World([REPORT, SECRET_CABLE], imports=[("watch-1", "Oleg Sokolov")]),
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_low_user_cannot_tell_the_worlds_apart(scenario: str, base: Location, tmp_path: Path) -> None:
    plain, hidden = SCENARIOS[scenario]
    a = read_everything(build(base, tmp_path / "a", plain), NAMES, WORDS)
    b = read_everything(build(base, tmp_path / "b", hidden), NAMES, WORDS)
    assert a == b, first_difference(a, b)


def test_the_harness_sees_a_difference_the_owner_may_see(base: Location, tmp_path: Path) -> None:
    """The harness is not blind: the owner reads both worlds and tells them apart."""
    plain, hidden = SCENARIOS["hidden speaker behind 'I'"]
    a = read_everything(build(base, tmp_path / "a", plain), NAMES, WORDS, user=None)
    b = read_everything(build(base, tmp_path / "b", hidden), NAMES, WORDS, user=None)
    assert a != b
    # The owner sees the interviewee's card, and his relations through "I".
    assert '"name": "Boris Sokolov"' in b and '"name": "Boris Sokolov"' not in a
    assert '"type": "recruited"' in b


# Generated worlds -----------------------------------------------------------------

PEOPLE = ["Arkady Zorin", "Duarte Mendes", "Grigory Bortnik", "Anna Kovacs"]
HIDDEN_PEOPLE = ["Boris Kovalenko", "Oleg Sokolov", "Ivan Petrov"]
PLACES = ["Lisbon", "Vienna", "Porto", "Madrid"]
VERBS = ["met", "recruited", "warned", "paid"]

_person = st.sampled_from(PEOPLE)
_anyone = st.sampled_from(PEOPLE + HIDDEN_PEOPLE)


@st.composite
def _sentence(draw: st.DrawFn, who: st.SearchStrategy[str]) -> str:
    a, b = draw(who), draw(who)
    if draw(st.booleans()):
        a = a.split()[-1]  # a surname alone: resolved to a card by what else is known
    if a == b:
        return f"{a} travelled to {draw(st.sampled_from(PLACES))} in {draw(st.integers(1970, 1989))}."
    return (
        f"{a} {draw(st.sampled_from(VERBS))} {b} in {draw(st.sampled_from(PLACES))} in {draw(st.integers(1970, 1989))}."
    )


_visible_para = _sentence(_person).map(lambda s: f"(U) {s}")
_hidden_para = _sentence(_anyone).map(lambda s: f"(S//HUM) {s}")


@st.composite
def _worlds(draw: st.DrawFn) -> tuple[World, World]:
    docs = draw(st.lists(st.lists(_visible_para, min_size=1, max_size=3), min_size=1, max_size=3))
    hidden_docs = draw(st.lists(st.lists(_hidden_para, min_size=1, max_size=2), max_size=2))
    insertions = draw(st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10), _hidden_para), max_size=2))
    with_hidden = [list(d) for d in docs]
    for i, pos, para in insertions:
        target = with_hidden[i % len(with_hidden)]
        target.insert(pos % (len(target) + 1), para)
    # Each visible document opens with its own line: two copies of one text are
    # one document, and a hidden paragraph in one copy would make two.
    plain = [Doc(f"d{i}.txt", f"(U) Report {i}.\n\n" + "\n\n".join(d) + "\n") for i, d in enumerate(docs)]
    secret = [Doc(f"d{i}.txt", f"(U) Report {i}.\n\n" + "\n\n".join(d) + "\n") for i, d in enumerate(with_hidden)]
    extra = [Doc(f"h{i}.txt", "\n\n".join(d) + "\n", "S:HUM") for i, d in enumerate(hidden_docs)]
    # Hidden documents go anywhere among the visible ones, which keep their order.
    mixed = list(secret)
    for doc in extra:
        mixed.insert(draw(st.integers(0, len(mixed))), doc)
    return World(plain), World(mixed)


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(worlds=_worlds())
def test_generated_worlds_look_the_same_to_a_low_user(
    worlds: tuple[World, World], base: Location, tmp_path: Path
) -> None:
    plain, hidden = worlds
    names = [*PEOPLE, *HIDDEN_PEOPLE, "Zorin", "Sokolov"]
    words = [*(p.split()[-1] for p in PEOPLE + HIDDEN_PEOPLE), *PLACES, *VERBS]
    a = read_everything(build(base, tmp_path / "a", plain), names, words)
    b = read_everything(build(base, tmp_path / "b", hidden), names, words)
    assert a == b, first_difference(a, b)


def test_lines_split_from_a_marked_paragraph_are_never_unclassified(base: Location, tmp_path: Path) -> None:
    """A hostile review's finding: numbered and dashed lines directly under an
    (S//HUM) paragraph became portions of their own, unmarked, and so U."""
    text = (
        "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n\n"
        "(S//HUM) The source GRANIT reported three points:\n"
        "1. Zorin recruited Ivan Petrov in Vienna in 1975.\n"
        "2. Petrov is paid through the Lisbon rezidentura.\n\n"
        "(S//HUM) Notes of the debriefing follow.\n"
        "— Boris Kovalenko handled Petrov until 1979.\n"
    )
    plain = "(U) Colonel Arkady Zorin met the journalist Duarte Mendes in Lisbon in March 1977.\n"
    a = read_everything(build(base, tmp_path / "a", World([Doc("r.txt", plain)])), NAMES, WORDS)
    b = read_everything(build(base, tmp_path / "b", World([Doc("r.txt", text)])), NAMES, WORDS)
    assert "Petrov" not in b.split("\nsearch:", 1)[1].split("\ncheck:", 1)[0]
    assert a == b, first_difference(a, b)


def test_split_offsets_never_reach_past_the_visible_portion(base: Location, tmp_path: Path) -> None:
    """A mention id names a visible portion and offsets inside it; offsets past
    its end once reached the hidden paragraph after it (a hostile review moved
    a hidden mention onto a new card by trying offsets)."""
    from kartoteka.archive import Archive
    from kartoteka.errors import KartotekaError

    path = build(base, tmp_path / "b", World([REPORT_WITH_SECRET]))
    owner = Archive(path)
    owner.add_user("ana", "U", ["ANALYST"])
    owner.close()
    ana = Archive(path, user="ana")
    try:
        zorin = ana.check("Arkady Zorin")["matches"][0]["entity_id"]
        doc = ana.documents()[0]["id"]
        first = ana.document(doc)["portions"][0]["text"]
        refused = 0
        for s in range(len(first) - 5, len(first) + 200):
            try:
                ana.split(zorin, [f"{doc}:1:{s}-{s + 5}"])
            except KartotekaError as exc:
                assert exc.code == "E022"
                refused += 1
        assert refused == 205
    finally:
        ana.close()


def test_re_ingesting_what_was_shown_does_not_tell_whether_more_is_hidden(base: Location, tmp_path: Path) -> None:
    """A hostile review rebuilt a document's text from `show` and ingested it as
    a REGISTRY clerk: "unchanged" where the document held nothing hidden,
    "added" where it did. Only an author's own copy makes an ingest a no-op."""
    from kartoteka.archive import Archive

    answers = []
    for world, doc in (("a", REPORT), ("b", REPORT_WITH_SECRET)):
        path = build(base, tmp_path / world, World([doc]))
        owner = Archive(path)
        owner.add_user("reg", "U", ["REGISTRY"])
        owner.close()
        reg = Archive(path, user="reg")
        try:
            shown = reg.document(reg.documents()[0]["id"])
            rebuilt = "\n\n".join(p["text"] for p in shown["portions"]) + "\n"
            first = [r.status for r in reg.ingest([Doc("again.txt", rebuilt).raw()])]
            second = [r.status for r in reg.ingest([Doc("again.txt", rebuilt).raw()])]
            answers.append((first, second))
        finally:
            reg.close()
    assert answers[0] == answers[1] == (["added"], ["unchanged"])
