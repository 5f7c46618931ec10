"""Labels: a classification level and an access expression.

The expression follows Apache Accumulo's AccessExpression specification:
tokens joined by `&` (all required) or `|` (any suffices), grouped with
parentheses; `&` and `|` may not be mixed at one level without parentheses;
tokens are case-sensitive, either bare (letters, digits, `_ - . : /`) or
quoted (`"A#C"`, with `\\"` and `\\\\` the only escapes). Two rules are
Kartoteka's own: nesting deeper than MAX_DEPTH is refused (a clear error, not
a stack overflow), and U+FFFD is refused inside quotes, because it only ever
stands for bytes that were not valid UTF-8.

A label is written `LEVEL` or `LEVEL:EXPRESSION`, e.g. `S:HUM&(NOFORN|REL_UK)`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import total_ordering

MAX_DEPTH = 64
_BARE = re.compile(r"[A-Za-z0-9_\-.:/]+")


class LabelError(ValueError):
    """A malformed label or access expression; the message says where."""


@total_ordering
class Level(enum.Enum):
    U = 0
    C = 1
    S = 2
    TS = 3

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.value < other.value

    @property
    def title(self) -> str:
        return {0: "UNCLASSIFIED", 1: "CONFIDENTIAL", 2: "SECRET", 3: "TOP SECRET"}[self.value]

    @classmethod
    def parse(cls, text: str) -> Level:
        t = text.strip().upper().replace("_", " ")
        for level in cls:
            if t in (level.name, level.title):
                return level
        raise LabelError(f"unknown classification level {text!r} (expected U, C, S or TS)")


# Expressions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    name: str


@dataclass(frozen=True)
class Node:
    op: str  # "&" or "|"
    children: tuple[Expr, ...]


Expr = Token | Node


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def fail(self, what: str) -> LabelError:
        return LabelError(f"bad access expression {self.s!r}: {what} at position {self.i}")

    def parse(self) -> Expr:
        expr = self.expression(0)
        if self.i != len(self.s):
            raise self.fail(f"unexpected {self.s[self.i]!r}")
        return expr

    def expression(self, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH}")
        terms = [self.term(depth)]
        op: str | None = None
        while self.i < len(self.s) and self.s[self.i] in "&|":
            here = self.s[self.i]
            if op is not None and here != op:
                raise self.fail("'&' and '|' mixed without parentheses")
            op = here
            self.i += 1
            terms.append(self.term(depth))
        if op is None:
            return terms[0]
        return Node(op, tuple(terms))

    def term(self, depth: int) -> Expr:
        if self.i >= len(self.s):
            raise self.fail("missing token")
        ch = self.s[self.i]
        if ch == "(":
            self.i += 1
            inner = self.expression(depth + 1)
            if self.i >= len(self.s) or self.s[self.i] != ")":
                raise self.fail("missing ')'")
            self.i += 1
            return inner
        if ch == '"':
            return Token(self.quoted())
        m = _BARE.match(self.s, self.i)
        if not m:
            raise self.fail(f"unexpected {ch!r}")
        self.i = m.end()
        return Token(m.group())

    def quoted(self) -> str:
        self.i += 1
        out: list[str] = []
        while True:
            if self.i >= len(self.s):
                raise self.fail("unterminated quote")
            ch = self.s[self.i]
            if ch == '"':
                self.i += 1
                break
            if ch == "\\":
                nxt = self.s[self.i + 1] if self.i + 1 < len(self.s) else ""
                if nxt not in ('"', "\\"):
                    raise self.fail('bad escape (only \\" and \\\\)')
                out.append(nxt)
                self.i += 2
                continue
            if ord(ch) < 0x20 or ord(ch) == 0x7F:
                raise self.fail("control character in quoted token")
            if ch == "\ufffd":
                raise self.fail("U+FFFD (undecodable bytes) in quoted token")
            out.append(ch)
            self.i += 1
        if not out:
            raise self.fail("empty quoted token")
        return "".join(out)


def parse_expression(text: str) -> Expr | None:
    """Parse an access expression; the empty string means "no compartments" (None)."""
    if text == "":
        return None
    return _Parser(text).parse()


def evaluate(expr: Expr | None, tokens: frozenset[str]) -> bool:
    if expr is None:
        return True
    # Recursion is bounded: parsing refused anything deeper than MAX_DEPTH.
    if isinstance(expr, Token):
        return expr.name in tokens
    if expr.op == "&":
        return all(evaluate(c, tokens) for c in expr.children)
    return any(evaluate(c, tokens) for c in expr.children)


def tokens_of(expr: Expr | None) -> frozenset[str]:
    if expr is None:
        return frozenset()
    if isinstance(expr, Token):
        return frozenset({expr.name})
    out: set[str] = set()
    for c in expr.children:
        out |= tokens_of(c)
    return frozenset(out)


def _quote(name: str) -> str:
    if _BARE.fullmatch(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _norm(expr: Expr) -> Expr:
    if isinstance(expr, Token):
        return expr
    flat: list[Expr] = []
    for c in (_norm(c) for c in expr.children):
        if isinstance(c, Node) and c.op == expr.op:
            flat.extend(c.children)  # a&(b&c) is a&b&c
        else:
            flat.append(c)
    unique = sorted(set(flat), key=render)
    if len(unique) == 1:
        return unique[0]
    return Node(expr.op, tuple(unique))


def render(expr: Expr | None) -> str:
    if expr is None:
        return ""
    if isinstance(expr, Token):
        return _quote(expr.name)
    return expr.op.join(f"({render(c)})" if isinstance(c, Node) else render(c) for c in expr.children)


def normalise(expr: Expr | None) -> Expr | None:
    """Canonical form: nested same operators flattened, duplicates dropped, operands sorted."""
    return None if expr is None else _norm(expr)


# Labels ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    level: Level
    expression: Expr | None = None

    @classmethod
    def parse(cls, text: str) -> Label:
        """`LEVEL` or `LEVEL:EXPRESSION`. An empty label is refused: every item must say what it is."""
        if not text or not text.strip():
            raise LabelError("empty label (give a level: U, C, S or TS, optionally :EXPRESSION)")
        head, sep, expr = text.partition(":")
        level = Level.parse(head)
        if sep and expr == "":
            raise LabelError(f"bad label {text!r}: empty expression after ':'")
        return cls(level, normalise(parse_expression(expr)))

    @classmethod
    def of_tokens(cls, level: Level, tokens: list[str]) -> Label:
        """A portion mark's meaning: that level and all those tokens."""
        clean = sorted({t for t in tokens if t})
        if not clean:
            return cls(level)
        expr: Expr = Token(clean[0]) if len(clean) == 1 else Node("&", tuple(Token(t) for t in clean))
        return cls(level, normalise(expr))

    def __str__(self) -> str:
        return self.level.name + (":" + render(self.expression) if self.expression is not None else "")

    @classmethod
    def join(cls, labels: list[Label]) -> Label:
        """The least label that protects all of `labels`: the highest level and
        every expression required at once. Whoever may see the join may see
        each of them; what is derived from several items carries their join."""
        if not labels:
            return UNCLASSIFIED
        exprs = [lab.expression for lab in labels if lab.expression is not None]
        expr: Expr | None = None
        if exprs:
            expr = exprs[0] if len(exprs) == 1 else Node("&", tuple(exprs))
        return cls(max(lab.level for lab in labels), normalise(expr))

    @property
    def tokens(self) -> frozenset[str]:
        return tokens_of(self.expression)


UNCLASSIFIED = Label(Level.U)


@dataclass(frozen=True)
class Clearance:
    """What a user holds: a level (which implies the lower ones) and tokens."""

    level: Level
    tokens: frozenset[str] = frozenset()
    everything: bool = False  # the archive owner

    def can_see(self, label: Label) -> bool:
        if self.everything:
            return True
        return label.level <= self.level and evaluate(label.expression, self.tokens)

    @property
    def key(self) -> str:
        """Stable identity of what this clearance can see, for caches."""
        if self.everything:
            return "*"
        return self.level.name + (":" + ",".join(sorted(self.tokens)) if self.tokens else "")

    @classmethod
    def parse(cls, text: str) -> Clearance:
        """`U`, or `S:HUM,NOFORN` (a level and the tokens held)."""
        head, _, rest = text.partition(":")
        tokens = frozenset(t.strip() for t in rest.split(",") if t.strip())
        for t in tokens:
            if not _BARE.fullmatch(t):
                raise LabelError(f"bad token {t!r} in {text!r}")
        return cls(Level.parse(head), tokens)


OWNER = Clearance(Level.TS, frozenset(), everything=True)

# Bound on the token sets `readers_see` enumerates; past it, it answers no (never a wrong yes).
_MAX_TERMS = 64


def _satisfying(expr: Expr | None) -> list[frozenset[str]] | None:
    """The token sets that each satisfy `expr` minimally enough: its disjunctive
    terms (None when there are more than `_MAX_TERMS`)."""
    if expr is None:
        return [frozenset()]
    if isinstance(expr, Token):
        return [frozenset({expr.name})]
    parts = [_satisfying(c) for c in expr.children]
    if any(p is None for p in parts):
        return None
    if expr.op == "|":
        out = [t for p in parts for t in p or ()]
        return out if len(out) <= _MAX_TERMS else None
    terms = [frozenset[str]()]
    for p in parts:
        terms = [a | b for a in terms for b in p or ()]
        if len(terms) > _MAX_TERMS:
            return None
    return terms


def readers_see(reader: Label, other: Label) -> bool:
    """May everyone who may read an item labelled `reader` also read one labelled `other`?

    Whatever is decided for the readers of one passage may rest only on what
    they all see. A reader holds the level and some set of tokens that
    satisfies `reader`; each disjunctive term of it is the least such set."""
    if other.level > reader.level:
        return False
    terms = _satisfying(reader.expression)
    if terms is None:
        return False
    return all(evaluate(other.expression, t) for t in terms)


DISSEMINATION = ("NOFORN", "NF")
REL_PREFIX = "REL_"


def roll_up(labels: list[Label]) -> str:
    """The banner of what a viewer sees.

    The highest level; the union of compartment and caveat tokens; NOFORN if
    any portion is NOFORN, and then no REL TO; otherwise REL TO only the
    countries every classified portion is releasable to (a classified portion
    without REL TO releases to no one, so it removes REL TO altogether).
    """
    if not labels:
        return Level.U.title
    level = max(lab.level for lab in labels)
    tokens: set[str] = set()
    for lab in labels:
        tokens |= {t for t in lab.tokens if not t.startswith(REL_PREFIX)}
    parts = [level.title]
    controls = sorted(t for t in tokens if t not in DISSEMINATION)
    if controls:
        parts.append("/".join(controls))
    if tokens & set(DISSEMINATION):
        parts.append("NOFORN")
    else:
        classified = [lab for lab in labels if lab.level > Level.U]
        rel_sets = [{t[len(REL_PREFIX) :] for t in lab.tokens if t.startswith(REL_PREFIX)} for lab in classified]
        if rel_sets and all(rel_sets):
            common = set.intersection(*rel_sets)
            parts.append("REL TO " + ", ".join(sorted(common)) if common else "NOFORN")
    return "//".join(parts)
