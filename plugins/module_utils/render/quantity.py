"""Kubernetes resource quantities: parse, compare, and render the form the API server stores.

The API server re-serializes a quantity (`resource.Quantity`) in a canonical form: "1000m" is stored as "1",
"0.5" as "500m", "1024Mi" as "1Gi", "1.5Gi" as "1536Mi". Rendering that form means the server's copy equals
ours, so the plan sees no drift. The rules, reimplemented from k8s.io/apimachinery pkg/api/resource:

- `<sign><digits>[.<digits>]<suffix>`; suffix decimal SI (n u m "" k M G T P E), binary SI (Ki Mi Gi Ti Pi
  Ei) or a decimal exponent (e3, E-6). The kind of suffix is kept in the canonical form.
- The value is exact, except that a non-zero value finer than 1n is rounded away from zero to 1n; in a
  resource list (requests, limits, quota) the server rounds further, up to 1m (`resource_value`).
- Binary SI: the largest power of 1024 that divides the value exactly (1536Mi); a value below 1024 in
  magnitude or not a whole number is written as decimal SI instead.
- Decimal SI and exponent: an integer mantissa times the largest power of ten that is a multiple of three
  (1500m, 1k, 12e6, 1e3); zero is "0".

The server keeps some inputs verbatim instead ("1E3", "1.500", "+1"); it keeps the canonical form verbatim
too, which is why we always send that. Values of 2^63 or more are refused rather than capped, as servers of
different versions disagree there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

DECIMAL_SI = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
BINARY_SI = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIX = {exponent: suffix for suffix, exponent in DECIMAL_SI.items()}
_BINARY_SUFFIX = {0: "", **{exponent: suffix for suffix, exponent in BINARY_SI.items()}}
_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)", re.DOTALL)
_EXPONENT = re.compile(r"[eE]([+-]?[0-9]{1,3})")
NANO = Fraction(1, 10**9)
MILLI = Fraction(1, 1000)
LIMIT = 2**63  # exclusive bound of a quantity's magnitude
MAX_EXPONENT = 64  # bound of a decimal exponent's magnitude, so that parsing stays cheap


@dataclass(frozen=True)
class Quantity:
    value: Fraction  # exact, in nano steps
    form: str  # "binary" | "decimal" | "exponent"


def parse(text: object) -> Quantity:
    """A quantity from a string (or an int or float, as YAML gives numbers); ValueError says what is wrong."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError("must be a string such as 500m, 1.5 or 256Mi")
    if isinstance(text, float) and not math.isfinite(text):
        raise ValueError("must be a finite number")
    source = text if isinstance(text, str) else repr(text)
    sign, whole, fraction, suffix = _NUMBER.fullmatch(source).groups()
    if not whole and not fraction:
        raise ValueError("must start with a number, as in 500m, 1.5 or 256Mi")
    value = Fraction(int(whole + (fraction or "") or "0"), 10 ** len(fraction or ""))
    value *= _multiplier(suffix)
    if value >= LIMIT:
        raise ValueError("is out of range (at most 2^63-1)")
    form = "binary" if suffix in BINARY_SI else "decimal" if suffix in DECIMAL_SI else "exponent"
    return round_up(Quantity(-value if sign == "-" else value, form), NANO)


def resource_value(text: object) -> Quantity:
    """A quantity of a resource list as the server stores it: rounded up to 1m."""
    return round_up(parse(text), MILLI)


def round_up(quantity: Quantity, step: Fraction) -> Quantity:
    """The quantity rounded away from zero to a multiple of ``step``."""
    magnitude = math.ceil(abs(quantity.value) / step) * step
    return Quantity(-magnitude if quantity.value < 0 else magnitude, quantity.form)


def canonical(quantity: Quantity) -> str:
    """The form the API server stores the quantity in."""
    value = quantity.value
    if value == 0:
        return "0"
    sign, magnitude = ("-" if value < 0 else ""), abs(value)
    if quantity.form == "binary" and magnitude >= 1024 and magnitude.denominator == 1:
        mantissa, power = int(magnitude), 0
        while mantissa % 1024 == 0:
            mantissa, power = mantissa // 1024, power + 10
        return f"{sign}{mantissa}{_BINARY_SUFFIX[power]}"
    mantissa, exponent = int(magnitude / NANO), -9
    while mantissa % 10 == 0:
        mantissa, exponent = mantissa // 10, exponent + 1
    shift = exponent % 3  # down to a multiple of three
    mantissa, exponent = mantissa * 10**shift, exponent - shift
    if quantity.form == "exponent":
        return f"{sign}{mantissa}{f'e{exponent}' if exponent else ''}"
    return f"{sign}{mantissa}{_DECIMAL_SUFFIX[exponent]}"


def _multiplier(suffix: str) -> Fraction:
    if suffix in DECIMAL_SI:
        return Fraction(10) ** DECIMAL_SI[suffix]
    if suffix in BINARY_SI:
        return Fraction(2 ** BINARY_SI[suffix])
    match = _EXPONENT.fullmatch(suffix)
    if match is None:
        units = " ".join(unit or '""' for unit in [*DECIMAL_SI, *BINARY_SI])
        raise ValueError(f"has an unknown unit; use one of {units} or an exponent such as e3")
    exponent = int(match.group(1))
    if abs(exponent) > MAX_EXPONENT:
        raise ValueError(f"has an exponent beyond {MAX_EXPONENT}")
    return Fraction(10) ** exponent
