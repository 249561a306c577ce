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

__all__ = ["Rule", "RuleBase", "configure_rule", "define_rule", "param"]

R = TypeVar("R")

_PARAM_KEY = "carecoord.rules.parameter"


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
        cls.metadata = attrs.evolve(metadata, parameters=_parameters(cls))  # type: ignore[attr-defined]
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
