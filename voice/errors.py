"""Typed errors shared by every stage.

`BadInputError` and its children mean "the user gave us something we cannot use" (CLI exit 2,
HTTP 4xx); anything else that escapes is an internal error (CLI exit 1, HTTP 5xx).
"""

from __future__ import annotations


class VoiceError(Exception):
    """Base class of all errors this library raises on purpose."""


class BadInputError(VoiceError):
    """The caller's input cannot be used; the message says why."""


class AudioError(BadInputError):
    """Empty, corrupt, truncated or unsupported audio."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class UnknownLanguageError(BadInputError):
    """No installed pack serves the requested language."""


class ModelError(VoiceError):
    """A model cannot be found, fetched or loaded."""


class ModelNotFoundError(ModelError, BadInputError):
    """A model spec resolves to nothing usable; the message says how to provide it."""
