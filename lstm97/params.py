"""Declared, typed, range-checked parameters for tasks and models.

A task or model lists its parameters as :class:`Param` objects. :func:`resolve` merges defaults with what the
user gave (Python values, or strings from the command line such as ``-p T=100``), checks every name, type and
range, and returns a plain dict. Mistakes raise :class:`~lstm97.errors.UserError` naming what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import UserError, unknown

#: Parameter kinds. ``floats`` is a tuple of floats ("-3,-6" on the command line); ``None`` is allowed for it
#: when ``optional`` is set and is written ``r`` (random, as in the paper's Table 10).
KINDS = ("int", "float", "str", "bool", "floats")


@dataclass(frozen=True)
class Param:
    """One declared parameter.

    ``low``/``high`` bound numbers (inclusive); ``choices`` restricts strings; ``optional`` lets a value be
    ``None`` (written ``r`` or ``none`` on the command line).
    """

    name: str
    kind: str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Param {self.name}: kind must be one of {KINDS}")

    def describe(self) -> str:
        """A short description of the allowed values, e.g. ``int in [20, 100000]``."""
        if self.choices:
            allowed = " | ".join(self.choices)
        else:
            allowed = self.kind
            if self.low is not None or self.high is not None:
                lo = "-inf" if self.low is None else f"{self.low:g}"
                hi = "inf" if self.high is None else f"{self.high:g}"
                allowed += f" in [{lo}, {hi}]"
        if self.optional:
            allowed += " or r (random)"
        return allowed

    def parse(self, raw: Any) -> Any:
        """Convert ``raw`` (a string from the CLI or a Python value) and check it."""
        try:
            value = self._convert(raw)
        except (TypeError, ValueError):
            raise UserError(f"parameter {self.name}={raw!r} is not valid: expected {self.describe()}.") from None
        self._check(value, raw)
        return value

    def _convert(self, raw: Any) -> Any:
        if raw is None:
            if self.optional:
                return None
            raise ValueError("not optional")
        if self.optional and isinstance(raw, str) and raw.strip().lower() in ("r", "none", "random"):
            return None
        if self.kind == "int":
            if isinstance(raw, bool):
                raise TypeError("bool is not int")
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError("not an integer")
            if isinstance(raw, str):
                f = float(raw.replace("_", ""))
                if not f.is_integer():
                    raise ValueError("not an integer")
                return int(f)
            return int(raw)
        if self.kind == "float":
            if isinstance(raw, bool):
                raise TypeError("bool is not float")
            return float(raw)
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError("not a bool")
        if self.kind == "floats":
            if isinstance(raw, str):
                parts = [p for p in raw.replace(";", ",").split(",") if p.strip()]
                return tuple(float(p) for p in parts)
            if isinstance(raw, (int, float)):
                return (float(raw),)
            return tuple(float(v) for v in raw)
        return str(raw)

    def _check(self, value: Any, raw: Any) -> None:
        if value is None:
            return
        if self.choices is not None and value not in self.choices:
            raise unknown(f"value for parameter {self.name}", str(value), self.choices)
        numbers = value if self.kind == "floats" else (value,) if self.kind in ("int", "float") else ()
        for v in numbers:
            if (
                not math.isfinite(v)
                or (self.low is not None and v < self.low)
                or (self.high is not None and v > self.high)
            ):
                raise UserError(f"parameter {self.name}={raw!r} is out of range: expected {self.describe()}.")


def resolve(declared: Sequence[Param], given: Mapping[str, Any], *, owner: str) -> dict[str, Any]:
    """Merge the declared defaults with the ``given`` values, each parsed and checked.

    Unknown names in ``given`` raise a :class:`UserError` that lists the declared names.
    """
    by_name = {p.name: p for p in declared}
    for name in given:
        if name not in by_name:
            raise unknown(f"parameter of {owner}", name, by_name)
    return {p.name: p.parse(given[p.name] if p.name in given else p.default) for p in declared}


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """Parse ``["T=100", "variant=a"]`` into a dict, rejecting malformed or repeated items."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UserError(f"parameter {item!r} is not of the form NAME=VALUE (for example T=100).")
        if name in out:
            raise UserError(f"parameter {name} is given twice.")
        out[name] = value.strip()
    return out
