"""Building the merge's objects from values already checked, without checking them again.

A model's attrs validators check each value when anyone builds it: a user's own object
must be valid. The merge builds a fact wrapper, a provenance entry, a merged patient and
a profile per person from values the records' own constructors have validated (a fact's
aware ``recorded_at``, a validated patient's tuples), so running every validator (and
the profile's public argument checks) again only costs time.

:func:`trusted_constructor` is the FHIR reader's (``carecoord.fhir._trusted``), kept here
as a copy because one package never imports another's private modules (the merge sits
below the reader). It makes, for one attrs class, a function that sets the fields
exactly as the class's own ``__init__`` does (defaults included) and runs its
``__attrs_post_init__`` (the checks across fields), but not the per-field validators.
Unlike the reader's, it sets a slot through its descriptor (about half the cost of
``object.__setattr__``, which finds that same descriptor).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["trusted_constructor"]

_T = TypeVar("_T")


def trusted_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A function building ``cls`` from the same arguments as ``cls``, without validators.

    Fields are set in order, defaults (and factories) as the class gives them, then
    ``__attrs_post_init__`` runs when the class has one. Classes with converters,
    ``init=False`` fields or a ``__attrs_pre_init__`` are refused (``TypeError``): their
    ``__init__`` does more than set fields.
    """
    if not attrs.has(cls) or hasattr(cls, "__attrs_pre_init__"):
        msg = f"{cls.__name__} is not a plain attrs class"
        raise TypeError(msg)
    namespace: dict[str, Any] = {"_new": object.__new__, "_set": object.__setattr__, "_cls": cls}
    params: list[str] = []
    lines: list[str] = []
    for field in attrs.fields(cls):
        if field.converter is not None or not field.init:
            msg = f"{cls.__name__}.{field.name} is converted or not set by __init__"
            raise TypeError(msg)
        name = field.alias or field.name
        default = field.default
        if default is attrs.NOTHING:
            params.append(name)
        elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            if default.takes_self:
                msg = f"{cls.__name__}.{field.name} has a factory taking self"
                raise TypeError(msg)
            namespace[f"_factory_{name}"] = default.factory
            params.append(f"{name}=_NOTHING")
            lines.append(f"    if {name} is _NOTHING:\n        {name} = _factory_{name}()")
        else:
            namespace[f"_default_{name}"] = default
            params.append(f"{name}=_default_{name}")
        slot = getattr(cls, field.name, None)
        if isinstance(slot, types.MemberDescriptorType):
            # A slot: its descriptor sets it directly (what object.__setattr__ finds).
            namespace[f"_slot_{name}"] = slot.__set__
            lines.append(f"    _slot_{name}(self, {name})")
        else:
            lines.append(f"    _set(self, {field.name!r}, {name})")
    namespace["_NOTHING"] = attrs.NOTHING
    post = "    self.__attrs_post_init__()\n" if hasattr(cls, "__attrs_post_init__") else ""
    source = (
        f"def build(*, {', '.join(params)}):\n"
        "    self = _new(_cls)\n" + "\n".join(lines) + "\n" + post + "    return self\n"
    )
    exec(compile(source, f"<trusted {cls.__qualname__}>", "exec"), namespace)  # noqa: S102 - made from the class's own field names
    built: Callable[..., _T] = namespace["build"]
    built.__doc__ = f"{cls.__qualname__}(...) without its field validators (library use only)."
    return built
