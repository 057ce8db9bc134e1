"""The pure rules of erasure: which strings are the person's, and how text loses them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from leadrefinery.privacy import domain


def test_contacts_are_found_anywhere_and_names_only_as_whole_words():
    needles = domain.needles_of(["grace@example.com", "+442079460958"], ["Grace", "Jo"])
    text = "Mail GRACE@example.com or call 442079460958; Graceland is not Grace; Jo stays"
    assert domain.scrub_text(text, needles) == (
        "Mail [erased] or call [erased]; Graceland is not [erased]; Jo stays"
    )


def test_json_is_scrubbed_in_keys_and_values_and_other_types_are_kept():
    needles = domain.needles_of(["grace@example.com"], ["Grace"])
    value = {"to": ["grace@example.com"], "grace@example.com": 1, "n": 2, "ok": True, "x": None}
    assert domain.scrub_json(value, needles) == {
        "to": ["[erased]"],
        "[erased]": 1,
        "n": 2,
        "ok": True,
        "x": None,
    }


def test_no_needles_change_nothing():
    needles = domain.needles_of(["", "  "], ["", "ab"])
    assert needles.pattern is None
    assert domain.scrub_text("anything at all", needles) == "anything at all"


ASCII = st.characters(min_codepoint=32, max_codepoint=126)
CONTACT = st.text(ASCII, min_size=3, max_size=20).filter(
    lambda s: s.strip() == s and not set(s.lower()) & set(domain.ERASED)
)


@given(st.text(ASCII, max_size=40), CONTACT)
def test_after_scrubbing_a_contact_is_never_left(text, contact):
    needles = domain.needles_of([contact], [])
    assert contact.lower() not in domain.scrub_text(text + contact + text, needles).lower()


def test_urls_keep_their_path_or_host_only():
    url = "https://shop.example/pricing?email=grace%40example.com#top"
    assert domain.url_without_query(url) == "https://shop.example/pricing"
    assert domain.url_origin(url) == "https://shop.example"
    assert domain.url_origin("not a url") == ""
    assert domain.url_without_query("http://[bad") == ""


def test_the_retention_cutoff_counts_calendar_months():
    assert domain.retention_cutoff_months(6, 2026, 3) == (2025, 9)
    assert domain.retention_cutoff_months(24, 2026, 12) == (2024, 12)
    assert domain.retention_cutoff_months(1, 2026, 1) == (2025, 12)
