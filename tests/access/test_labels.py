"""Labels and access expressions.

The malformed and evaluation cases are those of Apache Accumulo's published
test data for AccessExpression (accumulo-access, testdata.json, Apache-2.0),
written out here as test vectors.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kartoteka.access.labels import (
    OWNER,
    Clearance,
    Label,
    LabelError,
    Level,
    evaluate,
    normalise,
    parse_expression,
    render,
    roll_up,
)

MALFORMED = [
    "()", "()|()", "()&()", "&", "|", "(&)", "(|)", "A|", "|A", "A&", "&A", "&(five)", "|(five)", "(five)&",
    "five|", "a|(b)&", "(&five)", "(five|)", "one(five)", "(five)one", "(one)(two)", "a|(b(c))", "(", ")",
    "(a&b", "b|a)", "A|B)", "(A&B)|(C&D)&(E)", "a|b&c", "A&B&C|D", "A|(B|)", "A|(|B)", "A|(B&)", "A|(&B)",
    "((A)", "(A", "A)", "))", "(A|B))", "A&B)", "(A&B))", "A&)", "A|)", "(&A", "(|B", "A$B", "(A|(B&()))",
    "A|B&C", "A&B|C", "(A&B|C)|(C&Z)", "(A&B|C)&(C&Z)", "(A&B|C)|(D|C&Z)", "(A&B|C)&(D|C&Z)",
    '"', '"\\c"', '"\\"', '"""', '"""&A', "!", "!|a", "a|!", "@", "@|a", "(@|a)", "a|@", "(a|@)", "#", "$",
    "%", "^", "*", "=", "+", "~", "`", "[", "]", "[A|Z]", "{", "{a|c}", "}", ",", "<", ">", "?", "&&", "a&&b",
    "a&b&&c", "||", "a||b", "a|b||c", "&|", "|&", "a|b&", "(|a)", "&a&b(a&b)", "#A", "#&", "(A&B)D&C",
    "A&B(D&C)", '""', '""|A', 'A|""', '""&A', 'A&""', 'A&(""|B)', '("")', " ", "\n",
    # Kartoteka's additions: control characters and undecodable bytes inside quotes.
    '"A\x01B"', '"A\x7fB"', '"A\ufffdB"', "A\ufffd",
]  # fmt: skip

ACCESSIBLE = [
    (["one", "two", "three", "four"], "one|five"),
    (["one", "two", "three", "four"], "(one&two)|(foo&bar)"),
    (["one", "two", "three", "four"], "((one|foo)|bar)&two"),
    (["one", "two", "three", "four"], "(one|five|six)&(two|seven|eight)&(three|eleven|nine|twenty)&four"),
    (["a_b", "a-c", "a/d", "a:e", "a.f"], "a_b&a-c&a/d&a:e&a.f"),
    (["五", "六"], '"五"&("四"|"六")'),
    (["A#C", 'A"C', "A\\C"], '"A\\"C"&"A\\\\C"'),
    (["A#C"], '("A#C")'),
]
INACCESSIBLE = [
    (["one", "two", "three", "four"], "one&five"),
    (["one", "two", "three", "four"], "((one|foo)|bar)&goober"),
    (["A1", "Z9"], "A1&Z8"),
    (["a_b"], "a_b&a_z"),
    (["五"], '"五"&"四"'),
    (["A#C"], '"A#C"&B'),
    (["hum"], "HUM"),  # tokens are case-sensitive
]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_expressions_are_refused(text: str) -> None:
    with pytest.raises(LabelError):
        parse_expression(text)


@pytest.mark.parametrize(("auths", "text"), ACCESSIBLE)
def test_accessible(auths: list[str], text: str) -> None:
    assert evaluate(parse_expression(text), frozenset(auths))


@pytest.mark.parametrize(("auths", "text"), INACCESSIBLE)
def test_inaccessible(auths: list[str], text: str) -> None:
    assert not evaluate(parse_expression(text), frozenset(auths))


@pytest.mark.parametrize("depth", [65, 10_000])
def test_deep_nesting_is_a_clean_error(depth: int) -> None:
    with pytest.raises(LabelError, match="nesting deeper"):
        parse_expression("(" * depth + "A" + ")" * depth)


def test_labels() -> None:
    lab = Label.parse("S:HUM&(NOFORN|REL_UK)")
    assert lab.level is Level.S and str(lab) == "S:HUM&(NOFORN|REL_UK)"
    assert Clearance.parse("S:HUM,NOFORN").can_see(lab)
    assert not Clearance.parse("S:HUM").can_see(lab)
    assert not Clearance.parse("C:HUM,NOFORN").can_see(lab)
    assert Clearance.parse("TS:HUM,REL_UK").can_see(lab)  # a clearance implies the lower levels
    assert OWNER.can_see(lab)
    for bad in ["", "  ", "X", "S:", "S:A|B&C", "SECRET:()"]:
        with pytest.raises(LabelError):
            Label.parse(bad)
    assert Label.parse("secret").level is Level.S
    assert roll_up([Label.parse("C:HUM"), Label.parse("S:NOFORN"), Label.parse("U")]) == "SECRET//HUM//NOFORN"
    assert roll_up([Label.parse("S:HUM&REL_GBR&REL_USA"), Label.parse("C:REL_GBR")]) == "SECRET//HUM//REL TO GBR"
    # One classified portion without REL TO: the whole is not releasable abroad.
    assert roll_up([Label.parse("S:REL_GBR"), Label.parse("C")]) == "SECRET"
    assert roll_up([Label.parse("S:REL_GBR"), Label.parse("S:NOFORN")]) == "SECRET//NOFORN"
    assert roll_up([Label.parse("S:REL_GBR"), Label.parse("C:REL_USA")]) == "SECRET//NOFORN"
    assert roll_up([]) == "UNCLASSIFIED"


_tokens = st.sampled_from(["A", "B", "C", "HUM", "NOFORN", "x:y", "五"])


def _exprs() -> st.SearchStrategy[str]:
    leaf = _tokens.map(lambda t: t if t.isascii() else f'"{t}"')
    return st.recursive(
        leaf,
        lambda inner: st.tuples(st.sampled_from("&|"), st.lists(inner, min_size=2, max_size=3)).map(
            lambda t: t[0].join(f"({e})" for e in t[1])
        ),
        max_leaves=8,
    )


@settings(max_examples=300)
@given(_exprs(), st.sets(_tokens))
def test_normalising_never_changes_a_decision(text: str, held: set[str]) -> None:
    expr = parse_expression(text)
    norm = normalise(expr)
    assert evaluate(expr, frozenset(held)) == evaluate(norm, frozenset(held))
    # The normal form is itself a valid expression with the same meaning, and a fixed point.
    again = parse_expression(render(norm))
    assert normalise(again) == norm
    assert evaluate(again, frozenset(held)) == evaluate(expr, frozenset(held))


@settings(max_examples=500)
@given(st.text(max_size=40))
def test_fuzz_parser_fails_only_cleanly(text: str) -> None:
    with contextlib.suppress(LabelError):
        parse_expression(text)


def test_readers_see_is_what_every_reader_sees() -> None:
    """`readers_see(r, o)`: every clearance that may read `r` may read `o`, checked against all
    clearances over three tokens and four levels, for labels with &, | and nesting."""
    import itertools

    from kartoteka.access.labels import Clearance, Label, Level, readers_see

    exprs = ["", ":A", ":B", ":A&B", ":A|B", ":(A|B)&C", ":A|(B&C)", ":A&B&C", ":(A|C)&(B|C)"]
    labels = [Label.parse(level + e) for level in ("U", "S") for e in exprs]
    tokens = ["A", "B", "C"]
    clearances = [
        Clearance(level, frozenset(held))
        for level in Level
        for n in range(len(tokens) + 1)
        for held in itertools.combinations(tokens, n)
    ]
    for r, o in itertools.product(labels, labels):
        truth = all(c.can_see(o) for c in clearances if c.can_see(r))
        assert readers_see(r, o) == truth, (str(r), str(o))
