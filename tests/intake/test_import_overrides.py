"""A person's column choices overrule the automatic header mapping (pure: no database)."""

from leadrefinery.intake.import_mapping import map_headers
from leadrefinery.leads.custom_fields import Definition

HEADERS = ["E-mail", "Title", "Rating", "Notes", "Fleet size"]
FLEET = Definition(name="fleet_size", label="Fleet size", kind="number")


def test_automatic_mapping_without_overrides():
    mapping = map_headers(HEADERS, [FLEET])
    assert mapping.mapping == {
        "E-mail": "email",
        "Title": "title",
        "Notes": "message",
        "Fleet size": "custom: fleet_size",
    }
    assert mapping.unmapped_headers == ["Rating"]


def test_overrides_choose_a_field_a_custom_field_or_ignore_by_header_text():
    overrides = {"title": "need", "RATING": "custom:fleet_size", "Notes": "", "Fleet Size": ""}
    mapping = map_headers(HEADERS, [FLEET], overrides)
    assert mapping.mapping == {"E-mail": "email", "Title": "need", "Rating": "custom: fleet_size"}
    assert mapping.unmapped_headers == ["Notes", "Fleet size"]  # kept in the raw record only
    payload = mapping.payload(["a@b.example", "CTO", "12", "call me", "40"])
    assert payload["need"] == "CTO" and payload["custom"] == {"fleet_size": "12"}
    assert payload["extra"] == {"Notes": "call me", "Fleet size": "40"}


def test_an_override_naming_nothing_known_is_noted_and_ignored():
    mapping = map_headers(HEADERS, [], {"Title": "shoe_size", "Rating": "custom:nope"})
    assert mapping.mapping["Title"] == "title"
    assert "Rating" in mapping.unmapped_headers
    assert any("no field 'shoe_size'" in note for note in mapping.notes)


def test_a_chosen_column_comes_before_one_found_by_its_name():
    mapping = map_headers(["Email", "Work address"], [], {"Work address": "email"})
    assert mapping.columns["email"] == (1, 0)
    assert mapping.payload(["home@x.example", "work@x.example"])["email"] == "work@x.example"
