"""Diagnostics for marketers: where, what, and what to write instead.

One error tree: every problem in a rule source, from a stray character to
an end before its start, is a ``Diagnostic`` with a file, line and column;
``DslError`` carries all of a file's (or rule set's) diagnostics at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .ast import Pos

# Characters nobody means in a rule and which act on what prints them: C0 and C1
# controls (an escape sequence in a title erases a line of a terminal), DEL, line and
# paragraph separators, and the bidirectional controls (U+202E prints "ffo %05" for
# "50% off" on a receipt). Tabs too: texts are on one line, a tab reads as spaces.
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int
    column: int
    end_column: int
    message: str
    hint: str | None
    source_line: str

    def render(self) -> str:
        """``file:line:col: error: message``, the line, a caret, and the hint."""
        width = max(1, self.end_column - self.column)
        # The caret copies the line's tabs so that it lines up under the token
        # however wide the terminal draws a tab.
        before = self.source_line[:self.column - 1].ljust(self.column - 1)
        caret = "".join(c if c == "\t" else " " for c in before) + "^" * width
        lines = [f"{self.file}:{self.line}:{self.column}: error: {self.message}"]
        if self.source_line:
            # one U+FFFD for each character a terminal would act on: the line is shown
            # as it is, and the caret stays under its column
            shown = INVISIBLE.sub(lambda found: "\t" if found.group() == "\t" else "\ufffd",
                                  self.source_line)
            lines += [f"    {shown}", f"    {caret}"]
        if self.hint:
            lines.append(f"    hint: {self.hint}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column,
                "end_column": self.end_column, "message": self.message, "hint": self.hint}


class DslError(Exception):
    """A rule source that does not compile; ``diagnostics`` lists every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))
        super().__init__()

    def __str__(self) -> str:
        # Rendered when asked, not when raised: each diagnostic repeats its source line,
        # so 6,400 errors on one 40 KB line made 0.5 GB of text the API never sends
        # (a 600 KB body to `validate` took a server's whole memory).
        return "\n".join(d.render() for d in self.diagnostics)


def source_lines(source: str) -> list[str]:
    """The lines of a source as the parser counts them: split at "\n" only.

    ``str.splitlines`` also splits at form feeds, "\x1e", "\u2028" and others,
    which would put carets on the wrong line.
    """
    lines = [line.removesuffix("\r") for line in source.split("\n")]
    return lines[:-1] if source.endswith("\n") else lines  # as splitlines: no empty last


class Reporter:
    """Collects the diagnostics of one source file."""

    def __init__(self, filename: str, source: str) -> None:
        self.filename = filename
        self.lines = source_lines(source)
        self.diagnostics: list[Diagnostic] = []

    def error(self, pos: Pos, message: str, hint: str | None = None) -> None:
        line_text = self.lines[pos.line - 1] if 0 < pos.line <= len(self.lines) else ""
        end = pos.end_column if pos.end_column > pos.column else pos.column + 1
        self.diagnostics.append(
            Diagnostic(self.filename, pos.line, pos.column, end, message, hint, line_text))


def closest_word(word: str, choices: Iterable[str]) -> str | None:
    """The known word closest to ``word``, or None when nothing is close.

    Case counts for nothing in the comparison ("POS" is close to "pos"), though
    the language is case-sensitive: the answer is the word as it must be written.
    """
    by_lower: dict[str, str] = {}
    for choice in sorted(set(choices)):
        by_lower.setdefault(choice.lower(), choice)
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    if not close or _negates(word.lower(), close[0]):
        return None
    return by_lower[close[0]]


# `non_exclusive`, `not_pos`, `unstackable`: the word with a negation in front.
_NEGATION = re.compile(r"(?:not|non|no|un)[-_]?")


def _negates(word: str, choice: str) -> bool:
    """Is ``word`` the negation of ``choice``? Suggesting it would reverse the meaning."""
    negation = _NEGATION.match(word)
    return negation is not None and word != choice and word[negation.end():] == choice


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest known word, or None when nothing is close."""
    close = closest_word(word, choices)
    return f'did you mean "{close}"?' if close else None


__all__ = ["INVISIBLE", "Diagnostic", "DslError", "Reporter", "closest_word", "did_you_mean",
           "source_lines"]
