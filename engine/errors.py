"""One error tree for the runtime: every refusal names what is wrong and where."""

from __future__ import annotations


class RemiseError(Exception):
    """Base of every error remise raises on purpose."""


class BasketError(RemiseError):
    """A basket (evaluation request) that cannot be priced.

    ``path`` names the offending field the way a developer reads JSON:
    ``lines[2].unit_price``; an empty path means the whole request.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message

    def within(self, parent: str) -> BasketError:
        """The same refusal, its path placed under ``parent``: a line's checks name
        ``unit_price``, the basket's ``lines[2].unit_price``. Paths are written only
        when something is refused, not for every field that is fine."""
        return BasketError(f"{parent}.{self.path}" if self.path else parent, self.message)


class IRError(RemiseError):
    """Compiled rules (IR JSON, e.g. from a bundle file) that do not validate."""


__all__ = ["BasketError", "IRError", "RemiseError"]
