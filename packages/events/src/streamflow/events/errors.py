"""Typed errors raised when bytes on the wire do not satisfy a contract."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One violated constraint: dotted field path, what was wrong, pydantic's error type."""

    path: str
    message: str
    error_type: str


class ContractError(ValueError):
    """A payload does not satisfy its contract; ``errors`` names every offending field path."""

    def __init__(self, contract: str, errors: list[FieldError]) -> None:
        self.contract = contract
        self.errors = errors
        detail = "; ".join(f"{e.path or '<root>'}: {e.message}" for e in errors)
        super().__init__(f"{contract}: {detail}")

    @property
    def error_type(self) -> str:
        """A short machine-readable reason for dead letters (the first error's type)."""
        return self.errors[0].error_type if self.errors else "contract_error"


class SchemaVersionError(ContractError):
    """The payload's ``schema_version`` is neither the current one nor the one before it."""
