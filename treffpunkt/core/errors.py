"""Typed errors. Library code raises them; only the CLI layer prints them and picks exit codes."""

from __future__ import annotations


class TreffpunktError(Exception):
    """A user-facing failure: says what happened and, in ``hint``, what to do next."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class WorkspaceError(TreffpunktError):
    """The workspace is missing, incomplete, or not writable."""


class ConfigError(TreffpunktError):
    """A configuration or schema file is invalid."""


class InputError(TreffpunktError):
    """Input data (articles, exports, CoNLL files) cannot be used."""
