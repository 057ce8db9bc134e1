"""An import runs with the garbage collector tuned for bulk work, and leaves the process's
thresholds as they were (a worker runs other jobs after it)."""

import gc

import pytest

from leadrefinery.common.collector import BULK_THRESHOLDS, fewer_collections
from leadrefinery.intake import importing
from leadrefinery.intake.importing import import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead


def test_the_thresholds_are_set_for_the_block_and_restored_even_on_error():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == BULK_THRESHOLDS
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("the import failed")
    assert gc.get_threshold() == before


@pytest.mark.django_db
def test_an_import_writes_with_fewer_collections_and_restores_them(tmp_path, monkeypatch):
    seen = []
    write = importing._import_chunk

    def watched(*args, **kwargs):
        seen.append(gc.get_threshold())
        return write(*args, **kwargs)

    monkeypatch.setattr(importing, "_import_chunk", watched)
    before = gc.get_threshold()
    path = tmp_path / "list.csv"
    path.write_text("Email,First Name\n" + "".join(f"p{i}@example.org,Pat\n" for i in range(5)))
    report = import_csv(path, source_name="Expo", actor=Actor.system("import"))
    assert report.new_leads == 5 and Lead.objects.count() == 5
    assert seen and all(t == BULK_THRESHOLDS for t in seen)
    assert gc.get_threshold() == before
