"""What a contract field is, in the terms every mirror of it needs: kind, null, lengths, precision.

Read from the pydantic model itself (annotation and constraint metadata, ``Optional`` and
``Annotated`` unwrapped), so a changed ``Field(...)`` or type alias in ``streamflow.events`` is seen
by every drift test at once.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

_CONSTRAINTS = ("min_length", "max_length", "max_digits", "decimal_places")


@dataclass(frozen=True, slots=True)
class FieldShape:
    """One contract field, reduced to what tables, files and other models must agree with."""

    model: str
    name: str
    kind: str
    """``str``, ``int``, ``float``, ``bool``, ``decimal``, ``datetime``, ``enum``, ``model``,
    ``list`` or ``set``."""
    nullable: bool
    required: bool
    min_length: int | None = None
    max_length: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None
    enum: type[Enum] | None = None
    nested: type[BaseModel] | None = None
    description: str | None = None

    @property
    def where(self) -> str:
        """``Model.field``, for messages."""
        return f"{self.model}.{self.name}"

    @property
    def enum_values(self) -> tuple[str, ...]:
        """The enum's values in declaration order (empty when the field is not an enum)."""
        return tuple(str(member.value) for member in self.enum) if self.enum else ()


def _unwrap(annotation: Any) -> tuple[Any, bool, list[Any]]:
    """(base type, nullable, constraint metadata) of an annotation."""
    nullable = False
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            for item in extra:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                raise TypeError(f"unions of several types are not a field shape: {annotation!r}")
            annotation = args[0]
            continue
        return annotation, nullable, metadata


def _kind(base: Any) -> str:
    origin = typing.get_origin(base)
    if origin is list:
        return "list"
    if origin in (set, frozenset):
        return "set"
    if base is AwareDatetime or (isinstance(base, type) and issubclass(base, datetime)):
        return "datetime"
    if isinstance(base, type):
        if issubclass(base, Enum):
            return "enum"
        if issubclass(base, BaseModel):
            return "model"
        if issubclass(base, bool):
            return "bool"
        for kind, cls in (("int", int), ("float", float), ("decimal", Decimal), ("str", str)):
            if issubclass(base, cls):
                return kind
    raise TypeError(f"no field shape for {base!r}")


def field_shape(model: type[BaseModel], name: str) -> FieldShape:
    """The shape of ``model.name``; a dotted name reaches into a nested contract."""
    head, _, rest = name.partition(".")
    info = model.model_fields.get(head)
    if info is None:
        raise KeyError(f"{model.__name__} has no field {head!r}")
    base, nullable, metadata = _unwrap(info.annotation)
    metadata = [*info.metadata, *metadata]
    kind = _kind(base)
    if rest:
        if kind != "model":
            raise KeyError(f"{model.__name__}.{head} is not a nested contract")
        return field_shape(base, rest)
    constraints: dict[str, int | None] = dict.fromkeys(_CONSTRAINTS)
    for item in metadata:
        for key in _CONSTRAINTS:
            value = getattr(item, key, None)
            if value is not None:
                constraints[key] = value
    return FieldShape(
        model=model.__name__,
        name=name,
        kind=kind,
        nullable=nullable,
        required=info.is_required(),
        enum=base if kind == "enum" else None,
        nested=base if kind == "model" else None,
        description=info.description,
        **constraints,
    )


def field_shapes(model: type[BaseModel]) -> dict[str, FieldShape]:
    """Every field of ``model``, in declaration order."""
    return {name: field_shape(model, name) for name in model.model_fields}


def field_value(event: BaseModel, name: str) -> Any:
    """The value of a (dotted) field of an event; enums as their wire value."""
    value: Any = event
    for part in name.split("."):
        value = getattr(value, part)
    return value.value if isinstance(value, Enum) else value
