"""The search syntax (SQLite FTS5's) translated into a PostgreSQL `tsquery`.

What the README documents for `search` is FTS5 syntax; a PostgreSQL archive
takes the same queries:

- words: `Kryuchkov ambassador` (every word; implicit AND)
- phrases: `"First Chief Directorate"` (the words next to each other; `""`
  inside a phrase is a quote)
- `AND`, `OR`, `NOT` (upper case; lower-case `and` is a word), with NOT
  binding tightest, then AND, then OR, and parentheses
- prefixes: `Kryuch*`, `"First Chief Dir"*` (the last word of a phrase)

Words are read as FTS5's `unicode61 remove_diacritics 2` reads them: runs of
letters and digits, case and accents folded, nothing stemmed. What FTS5
accepts beyond this (`NEAR(...)`, `col:`, `^`, `+`) is refused here with the
ValueError FTS5 would give for bad syntax, and the archive then searches the
query's words (as it does for `Gen. Kalugin`).

The translation is SQL built from fixed fragments, with every word and
phrase a bound parameter: `phraseto_tsquery` for words and phrases,
`to_tsquery` for a prefix, joined with `&&`, `||`, `!!` and
`tsquery_phrase`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONFIG = "kartoteka"
_WORD = re.compile(r"[^\W_]+")
# An FTS5 bareword: letters, digits, underscore, anything outside ASCII.
_BARE = re.compile(r"[A-Za-z0-9_\x1a\x80-\U0010ffff]+")


@dataclass(frozen=True)
class Tsquery:
    """An SQL expression of type tsquery and its parameters."""

    sql: str
    params: tuple[str, ...]


def _tokens(query: str) -> list[tuple[str, str]]:
    """(kind, text) tokens: phrase, star, lparen, rparen, and, or, not."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise ValueError("unterminated string")
                if query[j] == '"':
                    if j + 1 < n and query[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(query[j])
                j += 1
            out.append(("phrase", "".join(buf)))
            i = j + 1
        elif c == "*":
            out.append(("star", c))
            i += 1
        elif c == "(":
            out.append(("lparen", c))
            i += 1
        elif c == ")":
            out.append(("rparen", c))
            i += 1
        else:
            m = _BARE.match(query, i)
            if m is None:
                raise ValueError(f"syntax error near {c!r}")
            word = m.group(0)
            if word in ("AND", "OR", "NOT"):
                out.append((word.lower(), word))
            elif word == "NEAR" and m.end() < n and query[m.end()] == "(":
                raise ValueError("NEAR is not supported by the PostgreSQL backend")
            else:
                out.append(("phrase", word))
            i = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0
        self.params: list[str] = []

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> str:
        if not self.tokens:
            raise ValueError("empty query")
        sql = self.or_expr()
        if self.i != len(self.tokens):
            raise ValueError(f"syntax error near {self.tokens[self.i][1]!r}")
        return sql

    def or_expr(self) -> str:
        left = self.and_expr()
        while self.peek() == "or":
            self.take()
            left = f"({left} || {self.and_expr()})"
        return left

    def and_expr(self) -> str:
        left = self.not_expr()
        while self.peek() in ("and", "phrase", "lparen"):
            if self.peek() == "and":
                self.take()
            left = f"({left} && {self.not_expr()})"
        return left

    def not_expr(self) -> str:
        left = self.primary()
        while self.peek() == "not":
            self.take()
            left = f"({left} && !!{self.primary()})"
        return left

    def primary(self) -> str:
        kind = self.peek()
        if kind == "lparen":
            self.take()
            inner = self.or_expr()
            if self.peek() != "rparen":
                raise ValueError("unbalanced parentheses")
            self.take()
            return inner
        if kind != "phrase":
            raise ValueError(f"syntax error near {self.tokens[self.i][1]!r}" if kind else "incomplete query")
        _, text = self.take()
        if self.peek() == "star":
            self.take()
            return self.prefix(text)
        self.params.append(text)
        return f"phraseto_tsquery('{CONFIG}', %s)"

    def prefix(self, text: str) -> str:
        words = _WORD.findall(text)
        if not words:
            raise ValueError("a prefix needs a word")
        last = f"to_tsquery('{CONFIG}', %s)"
        if len(words) == 1:
            self.params.append(f"'{words[0]}':*")
            return last
        # Parameters go in the order their placeholders appear.
        self.params.extend([" ".join(words[:-1]), f"'{words[-1]}':*"])
        return f"tsquery_phrase(phraseto_tsquery('{CONFIG}', %s), {last})"


def translate(query: str) -> Tsquery:
    """The tsquery of an FTS5-syntax query; ValueError where FTS5 syntax is broken or not supported."""
    parser = _Parser(_tokens(query))
    return Tsquery(parser.parse(), tuple(parser.params))
