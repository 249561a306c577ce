"""The rule protocol, and the helpers carecoord's own rules are written with.

A rule is any object with an ``id``, a ``metadata`` (:class:`RuleMetadata`) and an
``evaluate(ctx)`` method returning gaps. carecoord's rules are frozen attrs classes that
subclass :class:`RuleBase`, declare their parameters with :func:`param` and their metadata
with :func:`define_rule`; users may do the same, or implement the protocol directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Protocol, TypeVar, cast, runtime_checkable

import attrs

from carecoord.errors import Problem, ValidationError
from carecoord.rules._context import RuleContext
from carecoord.rules._model import Gap, Parameter, RuleMetadata

__all__ = [
    "Rule",
    "RuleBase",
    "configure_rule",
    "define_rule",
    "param",
    "rule_value_sets",
    "value_set_param",
]

R = TypeVar("R")

_PARAM_KEY = "carecoord.rules.parameter"
_VALUE_SET_KEY = "carecoord.rules.value-set"
VALUE_SET_UNIT = "value set"
"""The unit of a parameter that names value sets (shown in the rule catalogue)."""


@runtime_checkable
class Rule(Protocol):
    """A gap rule: an id, its metadata, and ``evaluate(ctx) -> Iterable[Gap]``.

    ``evaluate`` must be a pure function of the context: no clock, no I/O, no global
    state. It yields the gaps it finds, usually built with :meth:`RuleContext.gap`. A rule
    that raises becomes a :class:`RuleError` for that rule and patient; the others run.
    A rule that can be reconfigured also offers ``configure(**params) -> Rule`` (attrs
    classes get it for free through :func:`configure_rule`).
    """

    @property
    def id(self) -> str:
        """The stable rule id, such as ``"transition.tcm-contact"``."""
        ...

    @property
    def metadata(self) -> RuleMetadata:
        """What the rule is, its sources and parameters."""
        ...

    def evaluate(self, ctx: RuleContext) -> Iterable[Gap]:
        """The gaps for ``ctx.profile`` at ``ctx.as_of``."""
        ...


def param(
    default: Any,
    description: str,
    *,
    unit: str | None = None,
    validator: Callable[[Any, attrs.Attribute[Any], Any], None] | None = None,
    converter: Callable[[Any], Any] | None = None,
) -> Any:
    """Declare a rule parameter: an attrs field with a default, a description and a unit.

    Integers default to a check that the value is a non-negative ``int`` (windows).
    """
    if validator is None and isinstance(default, int) and not isinstance(default, bool):
        validator = _non_negative_int
    return attrs.field(
        default=default,
        validator=validator,
        converter=converter,
        metadata={_PARAM_KEY: (description, unit)},
    )


def value_set_param(default: str | tuple[str, ...], description: str) -> Any:
    """Declare a parameter naming the value set(s) a rule reads: a name or a tuple of names.

    The rule looks the names up in the library it is given (``ctx.value_set(name)``), so
    replacing a set in the library (``DEFAULT_VALUE_SETS.replace(...)``) changes what the
    rule sees, and configuring the parameter points the rule at another set.
    :func:`define_rule` adds the defaults to the metadata's ``value_sets``.
    """
    return attrs.field(
        default=default,
        validator=_value_set_names,
        metadata={_PARAM_KEY: (description, VALUE_SET_UNIT), _VALUE_SET_KEY: True},
    )


def _value_set_names(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    names = value if isinstance(value, tuple) else (value,)
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise ValidationError(
            Problem(attribute.name, "a value-set name, or a non-empty tuple of them")
        )


def _names_of(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _value_set_fields(cls: type) -> list[attrs.Attribute[Any]]:
    return [f for f in attrs.fields(cls) if f.metadata.get(_VALUE_SET_KEY)]


def rule_value_sets(rule: Rule) -> tuple[str, ...]:
    """The value sets ``rule`` reads, as configured.

    Its metadata's ``value_sets``, its value-set parameters' current values, and what its
    ``reads_value_sets()`` method returns, when it has one (names held in data, such as
    monitoring schedules). The engine checks the library holds them all before it runs.
    """
    names = list(getattr(rule.metadata, "value_sets", ()))
    if attrs.has(type(rule)):
        for field in _value_set_fields(type(rule)):
            names.extend(_names_of(getattr(rule, field.name)))
    more = getattr(rule, "reads_value_sets", None)
    if callable(more):
        names.extend(more())
    return tuple(dict.fromkeys(names))


def _non_negative_int(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(Problem(attribute.name, "must be a whole number, 0 or more"))


def _parameters(cls: type) -> tuple[Parameter, ...]:
    out = []
    for field in attrs.fields(cls):
        description, unit = field.metadata.get(_PARAM_KEY, ("", None))
        out.append(Parameter(field.name, field.default, description, unit))
    return tuple(out)


def define_rule(metadata: RuleMetadata) -> Callable[[type[R]], type[R]]:
    """Class decorator: attach ``metadata`` to an attrs rule class.

    The parameters are read from the class's fields (declared with :func:`param`), so they
    cannot drift from the metadata. Apply it above ``@attrs.frozen``.
    """

    def decorate(cls: type[R]) -> type[R]:
        if getattr(cls, "__attrs_attrs__", None) is None:
            msg = "define_rule decorates attrs classes; put it above @attrs.frozen"
            raise TypeError(msg)
        defaults = [n for f in _value_set_fields(cls) for n in _names_of(f.default)]
        names = tuple(dict.fromkeys((*metadata.value_sets, *defaults)))
        cls.metadata = attrs.evolve(  # type: ignore[attr-defined]
            metadata, parameters=_parameters(cls), value_sets=names
        )
        return cls

    return decorate


class RuleBase:
    """Optional base for attrs rule classes: ``id``, ``configure`` and a readable repr.

    The repr reads like the factory call that builds the rule, for example
    ``transition_tcm_contact(within_business_days=2, ...)``.
    """

    __slots__ = ()
    metadata: ClassVar[RuleMetadata]

    @property
    def id(self) -> str:
        """The rule id, from the metadata."""
        return self.metadata.id

    def configure(self, **params: Any) -> Any:
        """A copy with some parameters changed; unknown names raise ValidationError."""
        return _evolve(self, self.metadata.id, params)

    def __repr__(self) -> str:
        name = self.metadata.id.replace(".", "_").replace("-", "_")
        fields = attrs.fields(cast("Any", type(self)))
        args = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields)
        return f"{name}({args})"


def configure_rule(rule: Rule, **params: Any) -> Rule:
    """A copy of ``rule`` with ``params`` changed.

    Uses the rule's own ``configure`` when it has one, else ``attrs.evolve`` for attrs
    classes. Unknown parameter names raise :class:`~carecoord.errors.ValidationError`
    listing the known ones.
    """
    own = getattr(type(rule), "configure", None)
    if own is not None and not isinstance(rule, RuleBase):
        configured = own(rule, **params)
        if not isinstance(configured, Rule):
            msg = f"{rule.id}.configure did not return a rule"
            raise TypeError(msg)
        return configured
    return cast("Rule", _evolve(rule, rule.id, params))


def _evolve(rule: Any, rule_id: str, params: dict[str, Any]) -> Any:
    if not attrs.has(type(rule)):
        raise ValidationError(
            Problem("", f"rule {rule_id} has no parameters to configure"), what="configuration"
        )
    known = [f.name for f in attrs.fields(type(rule)) if f.init]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValidationError(
            [
                Problem(name, f"not a parameter of {rule_id}; parameters: {', '.join(known)}")
                for name in unknown
            ],
            what="configuration",
        )
    try:
        return attrs.evolve(rule, **params)
    except ValidationError as error:
        raise error.prefixed(rule_id) from None
    except (TypeError, ValueError) as error:
        raise ValidationError(Problem(rule_id, str(error)), what="configuration") from None
