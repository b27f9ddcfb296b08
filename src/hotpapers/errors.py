"""The exception tree of hotpapers; the CLI maps each branch to an exit code.

    HotpapersError          runtime failure (exit 1)
     +-- InputError         bad input or usage: a file, a date, an option (exit 2)
     |    +-- MissingCredentials  a source needs a secret that is not in the environment
     +-- SourceError        a remote interface failed or answered nonsense (exit 1)
     |    +-- PublishError  a publishing target refused or failed (exit 1)
     +-- StoreError         the database refused or is in a bad state (exit 1)
     +-- NothingToDo        nothing to do, e.g. no announcement that day (exit 3)
"""

from __future__ import annotations

__all__ = [
    "HotpapersError", "InputError", "MissingCredentials", "NothingToDo", "PublishError",
    "SourceError",
    "StoreError",
]


class HotpapersError(Exception):
    """Base of every error hotpapers raises on purpose."""

    exit_code = 1


class InputError(HotpapersError):
    """Bad input: the message names the input and the reason in one line."""

    exit_code = 2


class MissingCredentials(InputError):
    """A source needs credentials that are not set; the message names the variables."""


class SourceError(HotpapersError):
    """A remote source failed."""


class PublishError(SourceError):
    """A publishing target refused or failed; the message says which and why."""


class StoreError(HotpapersError):
    """The store failed."""


class NothingToDo(HotpapersError):
    """Not an error: there was nothing to do."""

    exit_code = 3
