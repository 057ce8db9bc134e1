"""The program page says who joins and who leaves in words, not as rule codes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_entry_and_exit_rules_read_as_words(users, client_for, make_program):
    program = make_program(
        entry_rules=["recycled", "lost_no_decision"], exit_rules=["hot", "owner_took_back"]
    )
    page = client_for(users.marketer).get(f"/nurture/programs/{program.pk}/").content.decode()
    assert "recycled from sales to nurture; lost for no decision" in page
    assert "turned hot; sales took it back" in page
    for code in ("lost_no_decision", "owner_took_back"):
        assert code not in page


def test_a_program_with_no_exit_rules_lists_every_exit(users, client_for, make_program):
    program = make_program(exit_rules=[])
    page = client_for(users.manager).get(f"/nurture/programs/{program.pk}/").content.decode()
    assert "turned hot; won; unsubscribed; bounced or complained; sales took it back" in page
