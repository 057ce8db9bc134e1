"""common/jsontext.py: JSON columns written by orjson read back as json.dumps's text does."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadrefinery.common.jsontext import dumps

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=())),  # lone surrogates too: json.dumps writes them
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(st.text(), st.integers(), st.booleans()), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_JSON)
def test_what_is_written_reads_back_as_json_dumps_text_reads_back(value):
    assert json.loads(dumps(value)) == json.loads(json.dumps(value))


def test_what_json_dumps_refuses_is_refused():
    @dataclasses.dataclass
    class Point:
        x: int

    for value in ({"at": datetime(2026, 1, 1, tzinfo=UTC)}, [Point(1)], {"s": {1, 2}}):
        with pytest.raises(TypeError):
            json.dumps(value)
        with pytest.raises(TypeError):
            dumps(value)


def test_text_past_ascii_is_written_as_itself_and_not_a_number_as_null():
    assert dumps({"name": "Zoë"}) == '{"name":"Zoë"}'
    assert json.loads(dumps([math.nan, math.inf])) == [None, None]
    # What orjson does not write, json.dumps does, as before.
    for value in (["\ud800 lone"], {1: "a", None: "b"}, [2**70]):
        assert dumps(value) == json.dumps(value)
