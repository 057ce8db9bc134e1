"""common/text.py: control characters removed from whatever is stored, counted."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from leadrefinery.common.text import scrub

_TEXT = st.text(alphabet=st.sampled_from(["a", "é", " ", "\t", "\n", "\x00", "\x07", "\x7f"]))
_VALUES = st.recursive(
    st.one_of(_TEXT, st.integers(), st.none(), st.booleans()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


def _one_by_one(value: Any) -> tuple[Any, int]:
    """What scrub gives, worked out key by key and value by value."""
    if isinstance(value, str):
        cleaned = "".join(c for c in value if c in "\t\n\r" or not (ord(c) < 32 or c == "\x7f"))
        return cleaned, len(value) - len(cleaned)
    if isinstance(value, dict):
        out, total = {}, 0
        for key, item in value.items():
            clean_key, a = _one_by_one(key)
            clean_item, b = _one_by_one(item)
            out[clean_key] = clean_item
            total += a + b
        return out, total
    if isinstance(value, list):
        items = [_one_by_one(i) for i in value]
        return [i for i, _ in items], sum(n for _, n in items)
    return value, 0


@given(st.dictionaries(_TEXT, _VALUES, max_size=6))
def test_a_payload_is_scrubbed_as_each_of_its_texts_is(payload):
    assert scrub(payload) == _one_by_one(payload)


def test_a_clean_payload_comes_back_as_a_copy():
    payload = {"email": "a@b.example", "extra": {"Badge": "A-1"}}
    clean, removed = scrub(payload)
    assert (clean, removed) == (payload, 0)
    clean["extra"]["Badge"] = "changed"
    assert payload["extra"]["Badge"] == "A-1"
    assert scrub({"extra": {"Badge": "A\x00-1"}, "n": "x"}) == (
        {"extra": {"Badge": "A-1"}, "n": "x"},
        1,
    )
