"""The base class of every contract: strict, frozen, versioned, N-1 tolerant.

Each Value model carries ``schema_version``. A consumer accepts the current version and the one
before it (N-1, the rule of :func:`streamflow.events.policy.accepted_versions`); the previous
version is upgraded in :meth:`Contract.upgrade_previous` before validation (by
:func:`streamflow.events.codec.decode`, only when a payload is not current), so code downstream
only ever sees the current shape. Current payloads take the fast strict-JSON path.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from streamflow.events import policy

SCHEMA_VERSION_ERROR = policy.UNSUPPORTED_SCHEMA_VERSION
"""The error type of a ``schema_version`` outside the accepted set (the policy's reason code)."""


class Contract(BaseModel):
    """A strict, immutable event model; unknown fields are rejected."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        str_strip_whitespace=False,
        use_attribute_docstrings=False,
    )

    SCHEMA_VERSION: ClassVar[int] = 1
    """The version this code writes; bump it (and implement ``upgrade_previous``) on a change."""

    schema_version: int = Field(
        default=1,
        ge=1,
        description="Version of this contract the producer wrote; consumers accept it and N-1.",
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("schema_version")
        if field is not None and field.default != cls.SCHEMA_VERSION:
            raise TypeError(f"{cls.__name__}: schema_version default must equal SCHEMA_VERSION")

    @classmethod
    def upgrade_previous(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Turn a payload of version ``SCHEMA_VERSION - 1`` into the current shape.

        The default suits additive changes (new optional fields): nothing to do.
        """
        return data

    @field_validator("schema_version")
    @classmethod
    def _current_or_previous(cls, version: int) -> int:
        if version == cls.SCHEMA_VERSION or version in cls.accepted_versions():
            return version
        raise PydanticCustomError(
            SCHEMA_VERSION_ERROR,
            "unsupported schema_version {version}; accepted: {accepted}",
            {"version": version, "accepted": sorted(cls.accepted_versions())},
        )

    @classmethod
    def accepted_versions(cls) -> frozenset[int]:
        """The versions a consumer of this contract accepts: current and N-1 (the policy's rule)."""
        return policy.accepted_versions(cls.SCHEMA_VERSION)


class Key(BaseModel):
    """The Kafka record key of a topic; its JSON form is what partitions the topic."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
