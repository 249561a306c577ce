"""A library of value sets keyed by carecoord's stable names: immutable, replaceable."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping

from carecoord.domain import Code
from carecoord.errors import NotFound, Problem, ValidationError
from carecoord.terminology._valueset import ValueSet

__all__ = ["ValueSets"]


class ValueSets:
    """The value sets the rules and consent views read, by carecoord's stable names.

    ``carecoord.terminology.DEFAULT_VALUE_SETS`` holds the shipped defaults; a library is
    immutable, and :meth:`replace` and :meth:`with_` return new ones::

        library = DEFAULT_VALUE_SETS.replace("mental-illness", licensed_set)

    Pass it to ``detect_gaps(..., value_sets=library)``, ``suggest_tasks``, ``view_for``
    and the other consent views. Built from a mapping (name to set) or from value sets
    (each under its own ``name``). Looking up an unknown name raises
    :class:`~carecoord.errors.NotFound`.
    """

    __slots__ = ("_sets",)

    def __init__(self, value_sets: Mapping[str, ValueSet] | Iterable[ValueSet] = ()) -> None:
        given: object = value_sets  # checked at run time: callers are not always typed
        if isinstance(given, Mapping):
            pairs = list(given.items())
        elif isinstance(given, Iterable) and not isinstance(given, str | bytes):
            pairs = [(getattr(v, "name", ""), v) for v in given]
        else:
            raise ValidationError(
                Problem("value_sets", "expected value sets, or a mapping of names to them"),
                what="value-set library",
            )
        problems = []
        found: dict[str, ValueSet] = {}
        for index, (name, value_set) in enumerate(pairs):
            where = f"value_sets[{name!r}]" if isinstance(name, str) else f"value_sets[{index}]"
            if not isinstance(name, str) or not name.strip():
                problems.append(Problem(where, "a value-set name is a non-empty string"))
            elif not isinstance(value_set, ValueSet):
                kind = type(value_set).__name__
                problems.append(Problem(where, f"expected a ValueSet, got {kind}"))
            elif name in found:
                problems.append(Problem(where, "the name is given twice"))
            else:
                found[name] = value_set
        if problems:
            raise ValidationError(problems, what="value-set library")
        self._sets = found

    # ------------------------------------------------------------------ lookup

    def __getitem__(self, name: str) -> ValueSet:
        found = self._sets.get(name)
        if found is None:
            raise NotFound(self._unknown(name))
        return found

    def _unknown(self, name: object) -> str:
        close = difflib.get_close_matches(str(name), list(self._sets), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return f"no value set named {name!r} in this library ({len(self._sets)} sets){hint}"

    def get(self, name: str, default: ValueSet | None = None) -> ValueSet | None:
        """The value set called ``name``, or ``default``."""
        return self._sets.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._sets

    def __iter__(self) -> Iterator[str]:
        return iter(self._sets)

    def __len__(self) -> int:
        return len(self._sets)

    @property
    def names(self) -> tuple[str, ...]:
        """The names, in the library's order."""
        return tuple(self._sets)

    def items(self) -> tuple[tuple[str, ValueSet], ...]:
        """``(name, value set)`` pairs, in the library's order."""
        return tuple(self._sets.items())

    def require(self, names: Iterable[str], *, reader: str = "") -> None:
        """Check every one of ``names`` is in the library.

        Raises:
            NotFound: naming every missing value set (and ``reader``, who needs them).
        """
        missing = [n for n in dict.fromkeys(names) if n not in self._sets]
        if missing:
            who = f"{reader} reads " if reader else ""
            listed = ", ".join(repr(n) for n in missing)
            raise NotFound(f"{who}value sets missing from the library: {listed}")

    def containing(self, code: Code) -> tuple[str, ...]:
        """The names of the value sets ``code`` is in (to see why a rule fired)."""
        return tuple(name for name, value_set in self._sets.items() if value_set.contains(code))

    # ------------------------------------------------------------------ new libraries

    def replace(self, name: str, value_set: ValueSet) -> ValueSets:
        """A new library where ``name`` is ``value_set`` (whatever that set's own name).

        Raises:
            NotFound: ``name`` is not in the library (use :meth:`with_` to add a set).
            ValidationError: ``value_set`` is not a ValueSet.
        """
        if name not in self._sets:
            raise NotFound(self._unknown(name) + "; use with_() to add a value set")
        return ValueSets({**self._sets, name: value_set})

    def with_(self, *value_sets: ValueSet) -> ValueSets:
        """A new library with ``value_sets`` added (or replaced) under their own names."""
        updated = dict(self._sets)
        problems = []
        given: tuple[object, ...] = value_sets  # checked at run time: callers are not always typed
        for index, value_set in enumerate(given):
            if isinstance(value_set, ValueSet):
                updated[value_set.name] = value_set
            else:
                kind = type(value_set).__name__
                problems.append(Problem(f"value_sets[{index}]", f"expected a ValueSet, got {kind}"))
        if problems:
            raise ValidationError(problems, what="value-set library")
        return ValueSets(updated)

    # ------------------------------------------------------------------ dunder

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValueSets):
            return NotImplemented
        return self._sets == other._sets

    def __hash__(self) -> int:
        return hash(tuple(self._sets))

    def __repr__(self) -> str:
        return f"ValueSets({len(self._sets)} value sets)"
