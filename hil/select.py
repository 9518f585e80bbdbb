"""`-k EXPR` scenario selection with pytest's keyword-expression syntax.

`-k "claim and not slow"`: words are matched case-insensitively as substrings of the
scenario's name, its file path and its tags; `and`, `or`, `not` and parentheses
combine them, as in `pytest -k`. A malformed expression raises `HilError` with the
position of the problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from hil.errors import HilError

_TOKEN: Final = re.compile(r"\s*(\(|\)|[^\s()]+)")
_KEYWORDS: Final = ("and", "or", "not")


class KeywordExpressionError(HilError):
    """`-k` could not be parsed."""


class _Parser:
    def __init__(self, expression: str, names: list[str]) -> None:
        self.expression = expression
        self.tokens = [m.group(1) for m in _TOKEN.finditer(expression)]
        self.pos = 0
        self.names = names

    def fail(self, what: str) -> KeywordExpressionError:
        return KeywordExpressionError(f"-k {self.expression!r}: {what} at word {self.pos + 1}")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        item = self.peek()
        if item is None:
            raise self.fail("unexpected end of expression")
        self.pos += 1
        return item

    def parse(self) -> bool:
        if not self.tokens:
            return True
        value = self.or_expr()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()!r}")
        return value

    def or_expr(self) -> bool:
        value = self.and_expr()
        while self.peek() == "or":
            self.take()
            right = self.and_expr()
            value = value or right
        return value

    def and_expr(self) -> bool:
        value = self.not_expr()
        while self.peek() == "and":
            self.take()
            right = self.not_expr()
            value = value and right
        return value

    def not_expr(self) -> bool:
        if self.peek() == "not":
            self.take()
            return not self.not_expr()
        item = self.take()
        if item == "(":
            value = self.or_expr()
            if self.take() != ")":
                raise self.fail("missing ')'")
            return value
        if item == ")" or item in _KEYWORDS:
            raise self.fail(f"unexpected {item!r}")
        word = item.lower()
        return any(word in name for name in self.names)


def keyword_matches(expression: str, names: Iterable[str]) -> bool:
    """True when `expression` selects an item known by `names`."""
    return _Parser(expression, [n.lower() for n in names]).parse()
