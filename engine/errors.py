"""One error tree for the runtime: every refusal names what is wrong and where."""

from __future__ import annotations

# A refusal quotes what it refuses, and a basket's text can be as long as its body (2 MiB)
# and hold any character. A message is one readable line however it is shown: a
# terminal (the command line, a device), a log, a problem's JSON.
MAX_MESSAGE = 400


def printable(text: str) -> str:
    """``text`` with every character that is not printable written as its escape
    (``\\n``, ``\\x1b``, ``\\u202e``): a line break would split the one line an error is,
    and an escape sequence would be run by the terminal that prints it."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shortened(text: str) -> str:
    """``text`` with its middle cut when it is long: the start shows the value, the end
    the explanation ('... is not an amount, e.g. "89.90"')."""
    if len(text) <= MAX_MESSAGE:
        return text
    return f"{text[:MAX_MESSAGE // 2]} [... {len(text) - MAX_MESSAGE:,} characters ...] " \
           f"{text[-MAX_MESSAGE // 2:]}"


class RemiseError(Exception):
    """Base of every error remise raises on purpose."""


class BasketError(RemiseError):
    """A basket (evaluation request) that cannot be priced.

    ``path`` names the offending field the way a developer reads JSON:
    ``lines[2].unit_price``; an empty path means the whole request. Both are
    ``printable`` (a field or a value quoted may hold a line break or an escape
    sequence); the error's text, what the command line prints, has each cut to
    ``MAX_MESSAGE`` characters too.
    """

    def __init__(self, path: str, message: str) -> None:
        path, message = printable(path), printable(message)
        super().__init__(f"{shortened(path)}: {shortened(message)}" if path
                         else shortened(message))
        self.path = path
        self.message = message

    def within(self, parent: str) -> BasketError:
        """The same refusal, its path placed under ``parent``: a line's checks name
        ``unit_price``, the basket's ``lines[2].unit_price``. Paths are written only
        when something is refused, not for every field that is fine."""
        return BasketError(f"{parent}.{self.path}" if self.path else parent, self.message)


class IRError(RemiseError):
    """Compiled rules (IR JSON, e.g. from a bundle file) that do not validate."""


__all__ = ["MAX_MESSAGE", "BasketError", "IRError", "RemiseError", "printable", "shortened"]
