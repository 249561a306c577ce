"""How carecoord objects show themselves: bounded reprs, HTML for notebooks, tables.

A leaf module, like :mod:`carecoord.errors`: it imports only attrs and the standard
library, so every layer may use it.

* **Bounded reprs.** :func:`bounded_repr` renders any attrs object in at most
  :data:`MAX_REPR` characters, whatever its size: long tuples show their first items and
  how many more there are, nesting deeper than three levels shows as ``Name(...)``, long
  strings are cut in the middle. It honours each field's ``repr`` setting (``False``
  leaves the field out, a callable such as ``masked`` replaces the value), so personal
  data masked in the generated repr stays masked. :func:`bound_reprs` installs it on
  every attrs class of a namespace whose repr attrs generated; each layer calls it on its
  public classes. Collections with a summary of their own (``ProfileSet(76 persons,
  3 possible matches)``) define ``__repr__`` themselves and are left alone.
* **HTML.** :class:`HtmlDisplay` is what every ``display(...)`` method returns: an object
  with ``_repr_html_`` (Jupyter, VS Code and IPython show it) and the HTML in ``html``.
  The helpers build small, escaped fragments (:func:`esc`, :func:`table`,
  :func:`section`, :func:`badge`) inside one :func:`frame` that carries an inline style
  sheet which inherits the notebook's colours, so one rendering reads in light and dark
  themes alike. Every value put in the HTML goes through :func:`esc`.
* **Tables.** :func:`to_pandas` and :func:`to_polars` turn a list of plain rows (what the
  ``to_records()`` methods return) into a data frame, importing pandas or polars only
  when called and raising :class:`~carecoord.errors.MissingExtraError` naming the extra
  (``carecoord[pandas]``, ``carecoord[polars]``) when it is not installed.
"""

from __future__ import annotations

import html
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, TypeAlias

import attrs

from carecoord.errors import MissingExtraError, checked_classes, checked_exports

__all__ = [
    "MASK",
    "MAX_REPR",
    "HtmlDisplay",
    "JsonValue",
    "badge",
    "bound_reprs",
    "bounded_repr",
    "clip",
    "counts",
    "esc",
    "frame",
    "section",
    "table",
    "to_pandas",
    "to_polars",
]

MAX_REPR = 1000
"""The longest repr any carecoord object has, in characters."""

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
"""A JSON-safe value: what every carecoord ``to_record()`` and ``to_records()`` is made of."""

MASK = "•••"
"""What an HTML display shows in place of personal data unless asked to show it."""


class _Repr(reprlib.Repr):
    """reprlib with attrs objects walked field by field, honouring their repr settings."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = self.maxlist = self.maxset = self.maxfrozenset = 4
        self.maxdict = 6
        self.maxstring = 100
        self.maxother = 120

    def repr1(self, x: Any, level: int) -> str:
        cls = type(x)
        if attrs.has(cls) and _generated(cls):
            return self._attrs(x, level)
        if isinstance(x, Enum):
            return f"{cls.__name__}.{x.name}"
        if isinstance(x, Mapping) and not isinstance(x, dict):
            return self.repr_dict(dict(x), level)
        return super().repr1(x, level)

    def _repr_iterable(  # noqa: PLR0917 - the signature of reprlib.Repr._repr_iterable
        self, x: Any, level: int, left: str, right: str, maxiter: int, trail: str = ""
    ) -> str:
        text: str = super()._repr_iterable(x, level, left, right, maxiter, trail)  # type: ignore[misc]
        hidden = len(x) - maxiter
        if level > 0 and hidden > 0 and text.endswith(f"...{right}"):
            text = f"{text[: -len(right)]} +{hidden} more{right}"
        return text

    def _attrs(self, x: Any, level: int) -> str:
        name = type(x).__name__
        if level <= 0:
            return f"{name}(...)"
        parts = []
        for field in attrs.fields(type(x)):
            if field.repr is False:
                continue
            value = getattr(x, field.name)
            shown = field.repr(value) if callable(field.repr) else self.repr1(value, level - 1)
            parts.append(f"{field.alias or field.name}={shown}")
        return f"{name}({', '.join(parts)})"


_REPR = _Repr()


def _generated(cls: type) -> bool:
    """Whether ``cls.__repr__`` is the one attrs generated (or ours), not a custom one."""
    method = cls.__dict__.get("__repr__") or getattr(cls, "__repr__", None)
    if method is _bounded_method:
        return True
    code = getattr(method, "__code__", None)
    return code is not None and code.co_filename.startswith("<attrs generated")


def clip(text: str, limit: int = MAX_REPR) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bounded_repr(obj: object) -> str:
    """The repr of ``obj`` in at most :data:`MAX_REPR` characters (see the module docs)."""
    return clip(_REPR.repr(obj))


def counts(obj: object, fields: Iterable[str]) -> str:
    """``"encounters=12, results=40"``: the length of each non-empty tuple field of ``obj``."""
    return ", ".join(f"{name}={n}" for name in fields if (n := len(getattr(obj, name))))


def _bounded_method(self: object) -> str:
    return bounded_repr(self)


def bound_reprs(namespace: Iterable[object]) -> None:
    """Give every attrs class in ``namespace`` whose repr attrs generated a bounded repr."""
    for cls in namespace:
        if isinstance(cls, type) and attrs.has(cls) and _generated(cls):
            cls.__repr__ = _bounded_method  # type: ignore[method-assign]


# --------------------------------------------------------------------------- HTML


def esc(value: object) -> str:
    """``value`` as text, HTML-escaped (quotes too), with control characters made visible."""
    text = "" if value is None else str(value)
    text = "".join(c if c.isprintable() or c in "\n\t" else f"\\x{ord(c):02x}" for c in text)
    return html.escape(text, quote=True)


_STYLE = """
.cc-d{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:13px;
line-height:1.4;color:inherit;background:transparent;max-width:100%;box-sizing:border-box;
overflow-wrap:anywhere}
.cc-d *{box-sizing:border-box}
.cc-d h3{font-size:15px;margin:4px 0 6px 0;font-weight:600}
.cc-d h4{font-size:13px;margin:10px 0 4px 0;font-weight:600}
.cc-d table{border-collapse:collapse;width:100%;table-layout:auto;margin:2px 0 6px 0}
.cc-d th,.cc-d td{text-align:left;vertical-align:top;padding:2px 8px 2px 0;
border-bottom:1px solid rgba(127,127,127,.3);overflow-wrap:anywhere;word-break:break-word}
.cc-d th{font-weight:600;border-bottom:1px solid rgba(127,127,127,.6);word-break:normal;
overflow-wrap:normal;white-space:nowrap}
.cc-d td.n,.cc-d th.n{text-align:right;white-space:nowrap}
.cc-d td.w{white-space:nowrap}
.cc-d .cc-b{display:inline-block;padding:0 6px;border-radius:8px;font-size:11px;
white-space:nowrap;border:1px solid rgba(127,127,127,.5)}
.cc-d .cc-open,.cc-d .cc-error,.cc-d .cc-high,.cc-d .cc-critical{
background:rgba(220,50,47,.18)}
.cc-d .cc-prospective,.cc-d .cc-warning,.cc-d .cc-medium{background:rgba(230,160,0,.2)}
.cc-d .cc-closed,.cc-d .cc-low,.cc-d .cc-ok{background:rgba(40,160,80,.18)}
.cc-d .cc-m{opacity:.7}
.cc-d .cc-note{opacity:.75;font-size:12px;margin:2px 0}
.cc-d details>summary{cursor:pointer}
"""


def frame(title: str, *parts: str, kind: str) -> str:
    """One display: a titled block with the style sheet, holding ``parts`` (HTML already).

    ``kind`` names what is shown (``data-cc-kind`` on the outer element), so tests and
    style sheets can find it.
    """
    body = "".join(parts)
    return (
        f'<div class="cc-d" data-cc-kind="{esc(kind)}"><style>{_STYLE}</style>'
        f"<h3>{esc(title)}</h3>{body}</div>"
    )


def section(title: str, body: str, *, key: str, note: str = "") -> str:
    """A titled part of a display (``data-cc`` is ``key``), with an optional note after."""
    after = f'<p class="cc-note">{esc(note)}</p>' if note else ""
    return f'<div data-cc="{esc(key)}"><h4>{esc(title)}</h4>{body}{after}</div>'


def badge(text: str, *, tone: str | None = None) -> str:
    """A small label (a status, a severity), coloured by ``tone`` (default: the text)."""
    css = "".join(c if c.isalnum() or c == "-" else "-" for c in (tone or text))
    return f'<span class="cc-b cc-{css}">{esc(text)}</span>'


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Iterable[int] = (),
    raw: Iterable[int] = (),
    nowrap: Iterable[int] = (),
    limit: int | None = None,
    total: int | None = None,
) -> str:
    """An HTML table; cells are escaped except the columns in ``raw`` (already HTML).

    Columns in ``numeric`` are right-aligned, those in ``nowrap`` (dates, badges) kept on
    one line. With ``limit``, only that many rows are
    shown and a note says how many of ``total`` (default: the rows given) were left out.
    """
    right = set(numeric)
    html_cells = set(raw)
    whole = set(nowrap)
    head = "".join(
        f'<th class="n">{esc(h)}</th>' if i in right else f"<th>{esc(h)}</th>"
        for i, h in enumerate(headers)
    )
    shown: list[str] = []
    count = 0
    for row in rows:
        count += 1
        if limit is not None and len(shown) >= limit:
            continue
        cells = []
        for i, cell in enumerate(row):
            text = str(cell) if i in html_cells else esc(cell)
            css = ' class="n"' if i in right else (' class="w"' if i in whole else "")
            cells.append(f"<td{css}>{text}</td>")
        shown.append(f"<tr>{''.join(cells)}</tr>")
    out = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(shown)}</tbody></table>"
    all_rows = count if total is None else total
    if len(shown) < all_rows:
        out += f'<p class="cc-note">{len(shown)} of {all_rows} shown</p>'
    return out


@attrs.frozen(repr=False)
class HtmlDisplay:
    """A rendering for notebooks: Jupyter shows ``html`` through :meth:`_repr_html_`.

    ``personal`` says whether the rendering shows personal data (names, birth dates,
    addresses, identifiers), which displays mask unless asked with
    ``show_personal_data=True``.
    """

    html: str
    kind: str
    personal: bool = False

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        shown = "with personal data" if self.personal else "masked"
        return f"HtmlDisplay({self.kind}, {len(self.html)} characters of HTML, {shown})"


# --------------------------------------------------------------------------- tables


def to_pandas(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Any:
    """A pandas ``DataFrame`` of ``rows`` with ``columns`` in that order (needs pandas).

    Raises:
        MissingExtraError: pandas is not installed (``pip install 'carecoord[pandas]'``).

    """
    try:
        import pandas as pd  # noqa: PLC0415 - an optional extra, imported when used
    except ImportError:
        raise MissingExtraError("pandas", "pandas") from None
    return pd.DataFrame.from_records(list(rows), columns=list(columns))


def to_polars(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Any:
    """A polars ``DataFrame`` of ``rows`` with ``columns`` in that order (needs polars).

    Raises:
        MissingExtraError: polars is not installed (``pip install 'carecoord[polars]'``).

    """
    try:
        import polars as pl  # noqa: PLC0415 - an optional extra, imported when used
    except ImportError:
        raise MissingExtraError("polars", "polars") from None
    data = {name: [row.get(name) for row in rows] for name in columns}
    return pl.DataFrame(data, strict=False)


checked_classes(
    globals(),
    ("HtmlDisplay",),
)
# esc and bounded_repr take any value; the rest are checked (a wrong kind is a UsageError).
checked_exports(globals(), skip=("bounded_repr", "esc"))
del checked_classes, checked_exports
