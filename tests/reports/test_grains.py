"""The rollups are kept at three grains; a report reads the coarsest that answers it and must
show exactly what the full grain shows, for every grouping, filter and viewer."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps as django_apps

from leadrefinery.reports import catalog, domain
from leadrefinery.reports.models import Bucket, Cell, Credit

from .test_rollup_property import rollup_tables, same

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 20)


def _everything(users, world) -> list[tuple[str, object, dict[str, str]]]:
    out = []
    for slug, spec in catalog.REPORTS.items():
        for by in spec.bys:
            for user in (users.admin, users.marketer, users.manager, users.rep):
                out.append((slug, user, {"by": by}))
            out.append((slug, users.admin, {"by": by, "source": str(world.show.pk)}))
            out.append((slug, users.admin, {"by": by, "rep": str(users.rep.pk)}))
    return out


def test_every_report_reads_the_same_at_its_grain_as_at_the_full_grain(world, users, monkeypatch):
    cases = _everything(users, world)
    chosen = []
    grains_used = set()
    real = domain.grain_for

    def spy(table, dims):
        grains_used.add(real(table, dims))
        return real(table, dims)

    monkeypatch.setattr(domain, "grain_for", spy)
    for slug, user, params in cases:
        chosen.append(catalog.build(slug, user, catalog.filters_for(slug, params, TODAY)))
    assert grains_used == {"s", "o", "f"}  # the cases do exercise every grain
    monkeypatch.setattr(domain, "grain_for", lambda table, dims: "f")
    for (slug, user, params), report in zip(cases, chosen, strict=True):
        full = catalog.build(slug, user, catalog.filters_for(slug, params, TODAY))
        assert report.rows == full.rows, (slug, user.username, params)
        assert report.headlines == full.headlines, (slug, user.username, params)


def test_a_rep_scorecard_reads_the_owner_grain_and_a_source_report_the_source_grain(users):
    assert domain.grain_for("cell", {"user", "team"}) == "o"
    assert domain.grain_for("cell", {"source", "campaign"}) == "s"
    assert domain.grain_for("cell", {"source", "user"}) == "f"
    assert domain.grain_for("credit", {"user"}) == "f"  # credits are kept per source only


def test_the_upgrade_fills_the_coarse_grains_from_the_full_rows(world):
    kept = rollup_tables()
    for model in (Cell, Bucket, Credit):
        model.objects.exclude(grain="f").delete()
    assert not same(rollup_tables(), kept)
    migration = importlib.import_module("leadrefinery.reports.migrations.0002_grains")
    migration.fill_coarse_grains(django_apps, None)
    assert same(rollup_tables(), kept)
