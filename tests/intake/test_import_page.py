"""The import page (issue #20): who may use it, what a bad upload says, the mapping a person
chooses (and saves for the source), the dry run's counts and samples, the import's result,
the rejected rows' file and the undo. The jobs run through ``import_job_run``, the function
the worker runs."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest
from django_q.models import OrmQ

from leadrefinery.intake.import_jobs import import_job_run
from leadrefinery.intake.models import ImportJob, ImportMapping, ImportUpload
from leadrefinery.leads.custom_field_services import custom_field_create
from leadrefinery.leads.models import ImportBatch, Lead, Source

pytestmark = pytest.mark.django_db

SALESFORCE = [
    "First Name",
    "Last Name",
    "Title",
    "Company",
    "Email",
    "Phone",
    "Lead Source",
    "Street",
    "City",
    "State/Province",
    "Zip/Postal Code",
    "Country",
    "Description",
    "Rating",
]


FIRST = ["Ava", "Bruno", "Chiara", "Dmitri", "Esther", "Farid", "Greta", "Hiro", "Ines", "Jonas"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Castillo", "Novak", "Byrne", "Haddad"]


def salesforce_csv(rows: int = 6, bad_every: int = 3) -> bytes:
    """Salesforce's lead export headers; every ``bad_every``-th row has a bad email."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SALESFORCE)
    for i in range(1, rows + 1):
        first, last = FIRST[i % len(FIRST)], f"{LAST[i % len(LAST)]}{'x' * (i // 80)}"
        email = f"{first}.{last}{i}@firm{i}.example".lower()
        email = "not-an-email" if bad_every and i % bad_every == 0 else email
        writer.writerow(
            [first, last, "Buyer", f"Company {i}", email, "", "Trade Show", f"{i} Main St",
             "Austin", "TX", "78701", "US", "Met at booth", "Hot" if i % 2 else "Warm"]
        )  # fmt: skip
    return out.getvalue().encode()


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.REFINERY_HOME = tmp_path
    return tmp_path


def _upload(client, data: bytes, name: str = "expo.csv", **fields):
    return client.post(
        "/import/", {"file": _named(data, name), "source": "", "campaign": "", **fields}
    )


def _named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def _columns_form(upload: ImportUpload, **chosen: str) -> dict[str, str]:
    headers = upload.preview["headers"]
    targets = {**upload.preview["targets"], **chosen}
    return {f"col_{i}": targets[h] for i, h in enumerate(headers)}


def _run_queued(django_capture_on_commit_callbacks, post) -> ImportJob:
    """Post the form; the job is handed to django-q after commit; run it as the worker does."""
    with django_capture_on_commit_callbacks(execute=True):
        response = post()
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.latest("created_at")
    assert OrmQ.objects.exists(), "the job was queued for the worker"
    assert import_job_run(job.pk) == "done", ImportJob.objects.get(pk=job.pk).error
    job.refresh_from_db()
    return job


def test_reps_and_managers_get_403_marketers_and_admins_the_page(client_for, users):
    for user in (users.rep, users.manager):
        client = client_for(user)
        assert client.get("/import/").status_code == 403
        assert _upload(client, salesforce_csv()).status_code == 403
        assert b'href="/import/"' not in client.get("/leads/").content
    for user in (users.marketer, users.admin):
        client = client_for(user)
        page = client.get("/import/")
        assert page.status_code == 200
        assert b"Upload and check the columns" in page.content
        assert b'href="/import/"' in client.get("/leads/").content


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "empty.csv is empty: there is nothing to import"),
        (b"First Name,Company\nPat,Acme\n", "names.csv", "no email or phone column found"),
        (b"%PDF-1.4 binary", "list.pdf", "list.pdf is not a CSV or Excel file"),
        (b"\n\n\n", "blank.csv", "blank.csv is empty: no header row found"),
    ],
)
def test_a_bad_upload_says_what_is_wrong_on_the_page(client_for, users, home, data, name, message):
    client = client_for(users.marketer)
    response = _upload(client, data, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportUpload.objects.exists()
    folder = home / "uploads" / "imports"
    assert not folder.exists() or not list(folder.iterdir()), "a refused file is not kept"


def test_no_file_chosen_is_an_error_not_a_crash(client_for, users):
    response = client_for(users.marketer).post("/import/", {"source": "Expo"})
    assert response.status_code == 400
    assert b"Choose a file to import." in response.content


def test_the_upload_is_kept_private_under_a_name_of_ours(client_for, users, home):
    response = _upload(client_for(users.marketer), salesforce_csv(), "../../etc/evil name.csv")
    assert response.status_code == 302
    upload = ImportUpload.objects.get()
    path = Path(upload.path)
    assert path.parent == home / "uploads" / "imports"
    assert path.name == f"{upload.pk.hex}.csv" and upload.name == "evil name.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    page = client_for(users.marketer).get(response["Location"]).content.decode()
    assert "6 rows · comma separated · UTF-8" in page
    assert 'value="email" selected' in page
    assert "bruno.lindqvist1@firm1.example" in page, "each column shows an example value"


def test_a_chosen_mapping_imports_and_a_saved_one_comes_back_for_the_source(
    client_for, users, django_capture_on_commit_callbacks
):
    custom_field_create(name="rating", label="Lead rating", kind="text")
    client = client_for(users.marketer)
    _upload(client, salesforce_csv(4, bad_every=0))
    upload = ImportUpload.objects.get()
    assert upload.preview["targets"]["Rating"] == "custom:rating"  # named like the field
    assert upload.preview["targets"]["Description"] == "message"
    form = {
        **_columns_form(upload, Description="", Title="need"),
        "source": "Expo Berlin",
        "campaign": "Spring",
        "save_mapping": "on",
        "action": "import",
    }
    job = _run_queued(
        django_capture_on_commit_callbacks,
        lambda: client.post(f"/import/uploads/{upload.pk}/", form),
    )
    assert job.kind == "import" and job.status == "done"
    lead = Lead.objects.get(person__email="bruno.lindqvist1@firm1.example")
    assert lead.custom.get("rating") == "Hot"
    assert lead.need == "Buyer" and not lead.message
    batch = ImportBatch.objects.get(pk=job.batch_id)
    assert batch.mapping["overrides"]["Description"] == ""
    saved = ImportMapping.objects.get(source__name="Expo Berlin")
    assert saved.columns["Title"] == "need" and saved.saved_by == users.marketer

    # The next file of that source (another export: other headers, other order) gets it.
    _upload(client, b"EMAIL,title,Company\nx@y.example,CTO,Z\n", "next.csv", source="expo berlin")
    nxt = ImportUpload.objects.latest("uploaded_at")
    assert nxt.preview["saved"] is True
    assert nxt.preview["targets"] == {"EMAIL": "email", "title": "need", "Company": "company"}


def test_a_mapping_without_email_or_phone_is_refused_on_the_page(client_for, users):
    client = client_for(users.marketer)
    _upload(client, salesforce_csv())
    upload = ImportUpload.objects.get()
    form = {**_columns_form(upload, Email="", Phone=""), "source": "Expo", "action": "dry_run"}
    response = client.post(f"/import/uploads/{upload.pk}/", form)
    assert response.status_code == 400
    assert "no column is mapped to Email or Phone" in response.content.decode()
    form = {**_columns_form(upload), "source": "", "action": "dry_run"}
    response = client.post(f"/import/uploads/{upload.pk}/", form)
    assert response.status_code == 400 and "name the source" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_dry_run_counts_and_samples_then_import_rejected_file_and_undo(
    client_for, users, make_lead, django_capture_on_commit_callbacks
):
    known = make_lead(
        email="bruno.lindqvist1@firm1.example", first_name="Bruno", last_name="Lindqvist"
    )
    open_before = Lead.objects.exclude(stage__in=["disqualified", "lost", "won", "merged"]).count()
    client = client_for(users.marketer)
    _upload(client, salesforce_csv(6))
    upload = ImportUpload.objects.get()
    form = {**_columns_form(upload), "source": "Expo", "action": "dry_run"}
    dry = _run_queued(
        django_capture_on_commit_callbacks,
        lambda: client.post(f"/import/uploads/{upload.pk}/", form),
    )
    assert Lead.objects.count() == open_before, "a dry run writes nothing"
    report = dry.report
    assert (report["imported"], report["rejected"]) == (4, 2)  # rows 3 and 6 have a bad email
    assert (report["new_leads"], report["attached"]) == (3, 1)  # buyer1 has an open lead
    assert (report["people_new"], report["people_attached"]) == (3, 1)
    assert [s["row"] for s in report["samples"]["rejected"]] == ["4", "7"]
    assert "Email" in report["samples"]["rejected"][0]["note"]
    assert report["samples"]["attached"][0]["email"] == "bruno.lindqvist1@firm1.example"
    page = client.get(f"/import/jobs/{dry.pk}/").content.decode()
    assert "What the import would do" in page and 'data-count="new_leads">3<' in page

    job = _run_queued(
        django_capture_on_commit_callbacks, lambda: client.post(f"/import/jobs/{dry.pk}/import")
    )
    assert job.kind == "import" and job.report["imported"] == 4
    assert (job.report["new_leads"], job.report["attached"], job.report["rejected"]) == (3, 1, 2)
    assert known.touches.count() == 2

    download = client.get(f"/import/jobs/{job.pk}/rejected.csv")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0][:4] == ["row", "column", "error", "First Name"]
    assert [(r[0], r[1], r[7]) for r in rows[1:]] == [
        ("4", "Email", "not-an-email"),
        ("7", "Email", "not-an-email"),
    ]
    assert stat.S_IMODE(Path(job.errors_path).stat().st_mode) == 0o600

    confirm = client.get(f"/import/jobs/{job.pk}/undo")
    assert b"Yes, undo this import" in confirm.content
    assert client.post(f"/import/jobs/{job.pk}/undo").status_code == 302
    page = client.get(f"/import/jobs/{job.pk}/").content.decode()
    assert "3 leads disqualified, 1 touch voided" in page
    open_after = Lead.objects.exclude(stage__in=["disqualified", "lost", "won", "merged"]).count()
    assert open_after == open_before
    again = client.post(f"/import/jobs/{job.pk}/undo")
    assert again.status_code == 400 and b"already undone" in again.content

    home_page = client.get("/import/").content.decode()
    assert f'href="/import/jobs/{job.pk}/"' in home_page and "Undone" in home_page


def test_other_roles_cannot_reach_a_job_or_its_files(
    client_for, users, django_capture_on_commit_callbacks
):
    client = client_for(users.marketer)
    _upload(client, salesforce_csv())
    upload = ImportUpload.objects.get()
    form = {**_columns_form(upload), "source": "Expo", "action": "import"}
    job = _run_queued(
        django_capture_on_commit_callbacks,
        lambda: client.post(f"/import/uploads/{upload.pk}/", form),
    )
    rep = client_for(users.rep)
    for url in ("", "status", "rejected.csv", "undo"):
        assert rep.get(f"/import/jobs/{job.pk}/{url}").status_code == 403
    assert rep.post(f"/import/jobs/{job.pk}/undo").status_code == 403
    assert rep.get(f"/import/uploads/{upload.pk}/").status_code == 403
    status = client.get(f"/import/jobs/{job.pk}/status").json()
    assert status["status"] == "done" and status["done"] is True


def test_a_command_line_batch_can_be_undone_from_the_page(client_for, users, home):
    """A batch `refinery import` made has no job page: the past imports list offers its undo
    (confirm first), which a rep cannot reach; afterwards the open leads are as before."""
    from leadrefinery.intake.importing import import_csv
    from leadrefinery.leads.actors import Actor

    open_leads = Lead.objects.exclude(stage__in=["disqualified", "lost", "won", "merged"])
    before = open_leads.count()
    path = home / "cli.csv"
    path.write_bytes(salesforce_csv(5, bad_every=0))
    report = import_csv(path, source_name="Expo", actor=Actor.system("import"))
    assert open_leads.count() == before + 5
    client = client_for(users.marketer)
    listing = client.get("/import/").content.decode()
    undo_url = f"/import/batches/{report.batch_id}/undo"
    assert f'href="{undo_url}"' in listing and "command line" in listing
    assert client_for(users.rep).post(undo_url).status_code == 403
    confirm = client.get(undo_url).content.decode()
    assert "Yes, undo this import" in confirm and "from the command line" in confirm
    assert open_leads.count() == before + 5, "looking at the confirmation changes nothing"
    done = client.post(undo_url).content.decode()
    assert "5 leads disqualified" in done
    assert open_leads.count() == before
    assert ImportBatch.objects.get(pk=report.batch_id).undone_by == users.marketer
    again = client.post(undo_url)
    assert again.status_code == 400 and b"already undone" in again.content
    assert f'href="{undo_url}"' not in client.get("/import/").content.decode()


def test_uploaded_files_are_deleted_a_month_after_their_last_job(
    client_for, users, settings, django_capture_on_commit_callbacks
):
    """Uploads and rejected-rows files hold personal data: the daily import-files job deletes
    them REFINERY_IMPORT_FILES_KEEP_DAYS after their last job ended, never while a job may
    still need them; a deleted upload cannot be imported again (it says so)."""
    from datetime import timedelta

    from leadrefinery.common.clock import now
    from leadrefinery.intake.import_jobs import import_files_prune

    settings.REFINERY_IMPORT_FILES_KEEP_DAYS = 30
    client = client_for(users.marketer)
    _upload(client, salesforce_csv(6))
    upload = ImportUpload.objects.get()
    form = {**_columns_form(upload), "source": "Expo", "action": "dry_run"}
    dry = _run_queued(
        django_capture_on_commit_callbacks,
        lambda: client.post(f"/import/uploads/{upload.pk}/", form),
    )
    job = _run_queued(
        django_capture_on_commit_callbacks, lambda: client.post(f"/import/jobs/{dry.pk}/import")
    )
    dry.refresh_from_db()
    files = [Path(upload.path), *(Path(j.errors_path) for j in (dry, job) if j.errors_path)]
    assert len(files) >= 2 and all(f.is_file() for f in files)
    assert import_files_prune(at=now() + timedelta(days=29)) == 0, "too early"
    assert import_files_prune(at=now() + timedelta(days=31)) == len(files)
    assert not any(f.exists() for f in files)
    assert import_files_prune(at=now() + timedelta(days=31)) == 0, "idempotent"
    assert client.get(f"/import/jobs/{job.pk}/rejected.csv").status_code == 404
    page = client.post(f"/import/jobs/{dry.pk}/import", {"again": "on"}, follow=True)
    assert "was deleted 30 days after its last import" in page.content.decode()
    assert ImportJob.objects.count() == 2, "no job was queued for a deleted file"
    assert job.batch.leads.count() == 4, "the imported leads stay"


def test_a_stopped_imports_file_is_kept_until_its_batch_ends(client_for, users, settings):
    from datetime import timedelta

    from leadrefinery.common.clock import now
    from leadrefinery.intake.import_jobs import import_files_prune, job_create

    client = client_for(users.marketer)
    _upload(client, salesforce_csv(6))
    upload = ImportUpload.objects.get()
    job = job_create(
        kind=ImportJob.Kind.IMPORT, upload=upload, source_name="Expo", columns={},
        user=users.marketer,
    )  # fmt: skip
    # The import stopped halfway: its batch is neither finished nor undone.
    batch = ImportBatch.objects.create(
        id=ImportBatch.new_id(), filename="expo.csv", source=Source.objects.get(name="Expo")
        if Source.objects.filter(name="Expo").exists()
        else Source.objects.create(name="Expo"), created_at=now(), total_rows=6,
    )  # fmt: skip
    ImportJob.objects.filter(pk=job.pk).update(status="failed", finished_at=now(), batch=batch)
    assert import_files_prune(at=now() + timedelta(days=90)) == 0
    assert Path(upload.path).is_file(), "a stopped import is resumed from its file: it stays"
    ImportBatch.objects.filter(pk=batch.pk).update(undone_at=now())
    assert import_files_prune(at=now() + timedelta(days=90)) == 1, "once undone, it goes"


def _selected(page: str, upload: ImportUpload, header: str) -> str:
    """The target selected for a column on the columns page."""
    import re

    index = upload.preview["headers"].index(header)
    select = page.split(f'name="col_{index}"', 1)[1].split("</select>", 1)[0]
    found = re.search(r'<option value="([^"]*)" selected>', select)
    return found.group(1) if found else ""


def test_the_saved_mapping_of_a_source_named_on_the_columns_page_can_be_applied(client_for, users):
    from leadrefinery.intake.import_uploads import mapping_save

    client = client_for(users.marketer)
    _upload(client, salesforce_csv())  # no source named on the upload step
    upload = ImportUpload.objects.get()
    mapping_save(source_name="Expo Berlin", columns={"Title": "need"}, user=users.marketer)
    url = f"/import/uploads/{upload.pk}/"
    form = {**_columns_form(upload, Description=""), "action": "use_saved"}

    page = client.post(url, {**form, "source": "expo berlin"}).content.decode()
    assert "The saved mapping of “expo berlin” is applied." in page
    assert _selected(page, upload, "Title") == "need"
    assert _selected(page, upload, "Description") == "message", "the rest as detected"

    page = client.post(url, {**form, "source": "Nobody saved"}).content.decode()
    assert "No mapping is saved for “Nobody saved”" in page
    assert _selected(page, upload, "Description") == "", "the person's choices are kept"
    response = client.post(url, {**form, "source": ""})
    assert "Name the source first" in response.content.decode()
    Path(upload.path).unlink()  # deleted after the keep period, say
    response = client.post(url, {**form, "source": "Expo Berlin"})
    assert response.status_code < 500 and "applied" not in response.content.decode()
    assert not ImportJob.objects.exists()


def test_change_the_columns_after_a_dry_run_shows_the_dry_runs_choices(
    client_for, users, django_capture_on_commit_callbacks
):
    client = client_for(users.marketer)
    _upload(client, salesforce_csv())
    upload = ImportUpload.objects.get()
    form = {
        **_columns_form(upload, Description="", Title="need"),
        "source": "Expo Berlin",
        "campaign": "Spring",
        "action": "dry_run",
    }
    job = _run_queued(
        django_capture_on_commit_callbacks,
        lambda: client.post(f"/import/uploads/{upload.pk}/", form),
    )
    result = client.get(f"/import/jobs/{job.pk}/").content.decode()
    link = f"/import/uploads/{upload.pk}/?job={job.pk}"
    assert link in result

    page = client.get(link).content.decode()
    assert _selected(page, upload, "Title") == "need"
    assert _selected(page, upload, "Description") == ""
    assert 'value="Expo Berlin"' in page and 'value="Spring"' in page
    fresh = client.get(f"/import/uploads/{upload.pk}/").content.decode()
    assert _selected(fresh, upload, "Description") == "message"
    for odd in ("x", "²", "9" * 40, str(job.pk + 1000)):  # not a job of this upload: ignored
        page = client.get(f"/import/uploads/{upload.pk}/?job={odd}")
        assert (
            page.status_code == 200
            and _selected(page.content.decode(), upload, "Description") == "message"
        )
