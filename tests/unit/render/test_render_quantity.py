"""Quantity canonicalization against a table; tests/integration/test_render_options.py checks the same table
against a real API server."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render.quantity import (
    canonical,
    parse,
    resource_value,
)

# input -> canonical form of a resource list value (rounded up to 1m, as the API server stores it)
RESOURCE_TABLE = [
    ("1000m", "1"),
    ("1", "1"),
    ("0.5", "500m"),
    (".5", "500m"),
    ("5.", "5"),
    ("+1", "1"),
    ("1.5", "1500m"),
    ("1.25", "1250m"),
    ("1.500", "1500m"),
    ("1.001", "1001m"),
    ("0.1", "100m"),
    ("100e-3", "100e-3"),
    ("1000e-3", "1"),
    ("1m", "1m"),
    ("1.5m", "2m"),
    ("0.0001", "1m"),
    ("0.1n", "1m"),
    ("1000n", "1m"),
    ("2000u", "2m"),
    ("0", "0"),
    ("0Mi", "0"),
    ("0.000", "0"),
    ("1024Mi", "1Gi"),
    ("1.5Gi", "1536Mi"),
    ("0.25Mi", "256Ki"),
    ("0.5Ki", "512"),
    ("1.5Ki", "1536"),
    ("1Ki", "1Ki"),
    ("1023Ki", "1023Ki"),
    ("1000Ki", "1000Ki"),
    ("1536Ki", "1536Ki"),
    ("3Gi", "3Gi"),
    ("7Ei", "7Ei"),
    ("1.0000001Ki", "1024001m"),
    ("0.000000001Ki", "1m"),
    ("2048", "2048"),
    ("10000", "10k"),
    ("1000000", "1M"),
    ("100M", "100M"),
    ("129M", "129M"),
    ("12345.678k", "12345678"),
    ("123456789", "123456789"),
    ("9E", "9E"),
    ("9223372036854775807", "9223372036854775807"),
    ("1e3", "1e3"),
    ("1E3", "1e3"),
    ("1e4", "10e3"),
    ("12e6", "12e6"),
    ("1.5e3", "1500"),
    ("0.5e1", "5"),
    ("1e0", "1"),
    ("1e-3", "1e-3"),
    ("1e-05", "1e-3"),
    ("1.5E-1", "150e-3"),
    ("1e-64", "1e-3"),
    ("-1.5", "-1500m"),
    ("-1Gi", "-1Gi"),
    (2, "2"),
    (0.5, "500m"),
    (1e-05, "1e-3"),
]

# finer than 1m: the plain Quantity form, rounded up to 1n only
QUANTITY_TABLE = [
    ("0.0001", "100u"),
    ("1.5m", "1500u"),
    ("0.1n", "1n"),
    ("1e-05", "10e-6"),
    ("1.0000001Ki", "1024000102400n"),
    ("-0.1n", "-1n"),
]


@pytest.mark.parametrize(("text", "expected"), RESOURCE_TABLE)
def test_resource_value_canonical_form(text, expected):
    assert canonical(resource_value(text)) == expected


@pytest.mark.parametrize(("text", "expected"), RESOURCE_TABLE)
def test_canonical_form_is_a_fixed_point(text, expected):
    assert canonical(resource_value(expected)) == expected
    assert resource_value(expected).value == resource_value(text).value


@pytest.mark.parametrize(("text", "expected"), QUANTITY_TABLE)
def test_quantity_canonical_form_keeps_nano_precision(text, expected):
    assert canonical(parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "value", "form"),
    [
        ("1.5Gi", Fraction(3 * 2**29), "binary"),
        ("1500m", Fraction(3, 2), "decimal"),
        ("1.5", Fraction(3, 2), "decimal"),
        ("15e-1", Fraction(3, 2), "exponent"),
        ("1E", Fraction(10**18), "decimal"),
    ],
)
def test_parse_keeps_exact_value_and_form(text, value, form):
    quantity = parse(text)
    assert (quantity.value, quantity.form) == (value, form)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "must start with a number"),
        (".", "must start with a number"),
        ("-", "must start with a number"),
        ("Mi", "must start with a number"),
        ("1K", "unknown unit"),
        ("1ki", "unknown unit"),
        ("1mi", "unknown unit"),
        ("1e", "unknown unit"),
        ("1e3.5", "unknown unit"),
        ("1 Mi", "unknown unit"),
        (" 1", "must start with a number"),
        ("1\n", "unknown unit"),
        ("1.2.3", "unknown unit"),
        ("1e100", "exponent beyond 64"),
        ("1e1000", "unknown unit"),
        ("10E", "out of range"),
        ("8Ei", "out of range"),
        ("9223372036854775808", "out of range"),
        (True, "must be a string"),
        (None, "must be a string"),
        ([1], "must be a string"),
        (float("inf"), "finite"),
    ],
)
def test_bad_quantities(text, words):
    with pytest.raises(ValueError, match=words):
        parse(text)
