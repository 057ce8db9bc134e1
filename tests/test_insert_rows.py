"""insert_rows writes exactly what the ORM would have written; build_models, read_in_bulk and
read_models read it back as the ORM would."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from leadrefinery.common.db import (
    build_models,
    insert_rows,
    read_in_bulk,
    read_models,
    select_columns,
    update_rows,
)
from leadrefinery.leads.models import IntakeRecord, Lead, LeadEvent, Source

pytestmark = pytest.mark.django_db


# PostgreSQL writes one row as VALUES, more through one array per column.
@pytest.mark.parametrize("count", [1, 3, 120])
def test_values_round_trip_through_the_orm(make_lead, count):
    lead = make_lead()
    at = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    events = [
        LeadEvent(
            lead=lead,
            kind="note",
            occurred_at=at + timedelta(minutes=i),
            actor=None,
            actor_label="system:test",
            note=f"note {i} with ünïcode and 'quotes'",
            data={"i": i, "nested": {"list": [1, "two", None]}},
        )
        for i in range(count)
    ]
    insert_rows(LeadEvent, events)
    assert all(e.pk for e in events)
    for event in events:
        stored = LeadEvent.objects.get(pk=event.pk)
        assert (stored.occurred_at, stored.note, stored.data, stored.lead_id) == (
            event.occurred_at,
            event.note,
            event.data,
            lead.pk,
        )
    assert [e.pk for e in events] == sorted(e.pk for e in events)


@pytest.mark.parametrize("count", [1, 2, 110])
def test_decimal_ip_and_null_fields(count):
    sources = [
        Source(
            name=f"Expo {i}",
            channel="trade_show",
            cost=Decimal("1234.50"),
            starts_on=None,
            ends_on=None,
        )
        for i in range(count)
    ]
    insert_rows(Source, sources)
    assert [Source.objects.get(pk=s.pk).cost for s in sources] == [Decimal("1234.50")] * count
    records = [
        IntakeRecord(
            channel="api",
            received_at=datetime(2026, 1, 1, tzinfo=UTC),
            payload={"email": f"a{i}@example.com", "note": "tab\there, new\nline \\ 'q'"},
            payload_hash="x",
            source=sources[i],
            ip="2001:db8::1",
            idempotency_key=None,
        )
        for i in range(count)
    ]
    insert_rows(IntakeRecord, records)
    for i, record in enumerate(records):
        stored = IntakeRecord.objects.get(pk=record.pk)
        assert (stored.ip, stored.idempotency_key, stored.payload, stored.source_id) == (
            "2001:db8::1",
            None,
            {"email": f"a{i}@example.com", "note": "tab\there, new\nline \\ 'q'"},
            sources[i].pk,
        )


def test_many_rows_span_several_statements(make_lead):
    lead = make_lead()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        LeadEvent(
            lead=lead,
            kind="note",
            occurred_at=at,
            actor=None,
            actor_label="t",
            note=str(i),
            data={},
        )
        for i in range(3500)
    ]
    insert_rows(LeadEvent, events)
    stored = dict(LeadEvent.objects.filter(lead=lead, kind="note").values_list("pk", "note"))
    # Every object got the id of its own row, in input order.
    assert stored == {e.pk: e.note for e in events}


def test_update_rows_writes_json_nulls_and_times_of_many_rows(make_lead):
    lead = make_lead()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        LeadEvent(lead=lead, kind="note", occurred_at=at, actor_label="t", note=str(i), data={})
        for i in range(1200)
    ]
    insert_rows(LeadEvent, events)
    for i, event in enumerate(events):
        event.note = f"it's {i}"
        event.data = {"n": i, "why": None} if i % 2 else []
        event.occurred_at = at + timedelta(seconds=i)
    update_rows(events, ["note", "data", "occurred_at"])
    stored = {e.pk: e for e in LeadEvent.objects.filter(lead=lead, kind="note")}
    for i, event in enumerate(events):
        row = stored[event.pk]
        assert (row.note, row.data, row.occurred_at) == (
            f"it's {i}",
            {"n": i, "why": None} if i % 2 else [],
            at + timedelta(seconds=i),
        )


def test_build_models_builds_the_same_instances_as_the_orm(make_lead):
    lead = make_lead()
    event = LeadEvent(
        lead=lead,
        kind="note",
        occurred_at=datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC),
        actor_label="system:test",
        note="ünïcode",
        data={"nested": [1, None, "x"]},
    )
    insert_rows(LeadEvent, [event])
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select_columns(LeadEvent, 'e')}, {select_columns(Lead, 'l')} "
            f"FROM {qn(LeadEvent._meta.db_table)} e "
            f"JOIN {qn(Lead._meta.db_table)} l ON l.id = e.lead_id WHERE e.id = %s",
            [event.pk],
        )
        rows = build_models(cursor.fetchall(), (LeadEvent, "e"), (Lead, "l"))
    assert len(rows) == 1
    got_event, got_lead = rows[0]
    orm_event = LeadEvent.objects.get(pk=event.pk)
    orm_lead = Lead.objects.get(pk=lead.pk)
    for got, orm in ((got_event, orm_event), (got_lead, orm_lead)):
        fields = type(orm)._meta.concrete_fields
        assert {f.attname: getattr(got, f.attname) for f in fields} == {
            f.attname: getattr(orm, f.attname) for f in fields
        }
        assert not got._state.adding  # saved as an update, not a second insert
    assert got_event.data == {"nested": [1, None, "x"]}
    assert got_event.occurred_at.tzinfo is not None


def test_read_in_bulk_answers_as_in_bulk_does(make_lead):
    leads = [make_lead(), make_lead(), make_lead()]
    wanted = [leads[2].pk, leads[0].pk, leads[0].pk, 10**9]  # any order, repeats, a missing id
    got = read_in_bulk(Lead, wanted)
    orm = Lead.objects.in_bulk(wanted)
    assert got.keys() == orm.keys() == {leads[0].pk, leads[2].pk}
    fields = Lead._meta.concrete_fields
    for pk, lead in orm.items():
        assert {f.attname: getattr(got[pk], f.attname) for f in fields} == {
            f.attname: getattr(lead, f.attname) for f in fields
        }
        assert not got[pk]._state.adding
    assert read_in_bulk(Lead, []) == {} == Lead.objects.in_bulk([])


def test_read_in_bulk_only_reads_the_fields_asked_for(make_lead, django_assert_num_queries):
    lead = make_lead()
    got = read_in_bulk(Lead, [lead.pk], only=["stage", "updated_at"])[lead.pk]
    assert got.get_deferred_fields() == {
        f.attname
        for f in Lead._meta.concrete_fields
        if f.attname not in {"id", "stage", "updated_at"}
    }
    with django_assert_num_queries(0):
        assert (got.pk, got.stage, got.updated_at) == (lead.pk, lead.stage, lead.updated_at)


def _columns(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_read_models_lists_what_the_queryset_lists(make_lead):
    """The same leads in the same order with every column converted as the ORM converts it
    (times, amounts, JSON), not added, of this database, nothing deferred; equal JSON values
    are separate objects (one changed leaves the other), while equal times may be shared."""
    leads = [make_lead(), make_lead(), make_lead()]
    at = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
        custom={"size": [1, "two"]},
        opportunity_amount=Decimal("1234.50"),
        currency="EUR",
        stage_changed_at=at,
    )
    query = Lead.objects.filter(pk__in=[lead.pk for lead in leads]).order_by("-pk")
    got, orm = read_models(query), list(query)
    assert (
        [lead.pk for lead in got]
        == [lead.pk for lead in orm]
        == sorted((lead.pk for lead in leads), reverse=True)
    )
    for mine, theirs in zip(got, orm, strict=True):
        assert type(mine) is Lead and _columns(mine) == _columns(theirs)
        assert (mine._state.adding, mine._state.db) == (False, theirs._state.db)
        assert mine.get_deferred_fields() == set()
        assert mine.stage_changed_at == at and mine.opportunity_amount == Decimal("1234.50")
    got[0].custom["size"].append("three")
    assert got[1].custom == {"size": [1, "two"]}
    # Saved as an update of the row read, not a second lead.
    got[0].next_action = "Call back"
    got[0].save(update_fields=["next_action"])
    assert Lead.objects.count() == 3
    assert Lead.objects.get(pk=got[0].pk).next_action == "Call back"


def test_read_models_reads_only_the_fields_asked_for(make_lead, django_assert_num_queries):
    lead = make_lead()
    for only in (["stage"], ["stage", "person"], ["person_id", "updated_at"]):
        query = Lead.objects.filter(pk=lead.pk).only(*only)
        (got,) = read_models(query)
        (orm,) = list(query)
        assert got.get_deferred_fields() == orm.get_deferred_fields(), only
        assert not got._state.adding
        with django_assert_num_queries(0):
            assert (got.pk, got.stage if "stage" in only else None) == (
                lead.pk,
                lead.stage if "stage" in only else None,
            )
    (got,) = read_models(Lead.objects.filter(pk=lead.pk).only("stage"))
    assert got.message == lead.message  # a deferred field, read when asked for


def test_read_models_leaves_any_other_queryset_to_the_orm(make_lead):
    lead = make_lead()
    same = Lead.objects.filter(pk=lead.pk)
    related = read_models(same.select_related("person"))
    assert related[0].person.email == lead.person.email
    deferred = read_models(same.defer("message"))
    assert deferred[0].get_deferred_fields() == {"message"}
    assert deferred[0].message == lead.message  # read when asked for, as the ORM does
    assert read_models(same.values("pk")) == [{"pk": lead.pk}]
    assert read_models(Lead.objects.filter(pk__in=[])) == []
    plain = same.order_by()
    assert read_models(plain.union(plain)) == list(plain.union(plain))


def test_build_makes_the_object_the_model_class_makes(db):
    """common.db.build stands in for Model(**values) on the intake's bulk writes: the same
    column values and defaults (a fresh dict for a JSON default), the related object cached,
    and a name that is no field refused."""
    from leadrefinery.common.db import build
    from leadrefinery.leads.models import Lead, LeadEvent, Person, Source, Touch
    from leadrefinery.scoring.models import LeadScore, ScoreLog

    source = Source.objects.create(name="Expo")
    person = Person(pk=41, email="ann@example.com", first_name="Ann")
    cases = [
        (Person, {"email": "bo@example.com", "custom": {"tier": "a"}}),
        (Lead, {"person": person, "source": source, "message": "Hi", "product_interest": ""}),
        (Touch, {"person": person, "note": "called"}),
        (LeadEvent, {"kind": LeadEvent.Kind.CREATED, "note": "New", "data": {"a": 1}}),
        (LeadScore, {"fit_points": 12, "reasons": [{"axis": "fit"}]}),
        (ScoreLog, {"lead_id": None, "delta": 3, "reason": "visited"}),
    ]
    for model, values in cases:
        made, built = model(**values), build(model, **values)
        assert type(built) is model
        expected = {k: v for k, v in made.__dict__.items() if k != "_state"}
        got = {k: v for k, v in built.__dict__.items() if k != "_state"}
        assert got == expected, model.__name__
        assert built._state.adding and built._state.fields_cache == made._state.fields_cache
    first, second = build(LeadScore), build(LeadScore)
    assert first.reasons == [] and first.reasons is not second.reasons
    with pytest.raises(TypeError, match="no field 'nickname'"):
        build(Person, nickname="Annie")


@pytest.mark.django_db
def test_json_columns_are_adapted_as_the_orm_adapts_them():
    from leadrefinery.common.db import db_converter
    from leadrefinery.leads.models import IntakeRecord

    field = IntakeRecord._meta.get_field("payload")
    convert = db_converter(field)
    for value in ({}, [], {"a": [1, "é", None], "b": {"c": 2.5}}, [{"x": True}], "text", 3, None):
        ours, orm = convert(value), field.get_db_prep_save(value, connection)
        assert type(ours) is type(orm), value
        # PostgreSQL wraps the value (Jsonb) and writes it when the statement runs; SQLite
        # gets the JSON text. Written by orjson, it is the same JSON, not the same spacing.
        assert getattr(ours, "obj", ours) == getattr(orm, "obj", orm) or (
            json.loads(ours) == json.loads(orm)
        ), value
    written = IntakeRecord.objects.create(
        channel="api",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        payload={},
        source=Source.objects.create(name="Web"),
    )
    value = {
        "name": "Zoë \u2603 \U0001f600",
        "n": [1, 2.5, -3e-7, 2**70, None, True],
        "k": {"": ""},
    }
    update_rows([_with_payload(written, value)], ["payload"])
    assert IntakeRecord.objects.get(pk=written.pk).payload == value


def _with_payload(record, payload):
    record.payload = payload
    return record


@pytest.mark.django_db
def test_sqlite_unmapped_turns_the_mapping_off_for_the_block_and_back_on():
    from leadrefinery.common.db import sqlite_unmapped

    def mapped() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA mmap_size")
            return int(cursor.fetchone()[0])

    if connection.vendor != "sqlite":
        with sqlite_unmapped():  # nothing to do on PostgreSQL
            assert Lead.objects.count() == 0
        return
    before = mapped()
    assert before > 0, "the settings map the database file"
    with sqlite_unmapped():
        assert mapped() == 0
    assert mapped() == before

    def cache() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return int(cursor.fetchone()[0])

    held = cache()
    assert held == -65536, "the settings give each connection 64 MiB of cache"
    with sqlite_unmapped(cache_mib=8):
        assert (mapped(), cache()) == (0, -8192)
    assert (mapped(), cache()) == (before, held)


def test_ignore_conflicts_leaves_out_the_rows_a_unique_constraint_refuses(make_lead):
    """As bulk_create(ignore_conflicts=True): the row already stored and the repeat within the
    batch are left out, the new rows are written with every value."""
    from leadrefinery.dedupe.models import PersonVariant

    person = make_lead().person
    at = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)

    def variant(signature, last_name):
        return PersonVariant(person=person, signature=signature, last_name=last_name, created_at=at)

    PersonVariant.objects.bulk_create([variant("a", "Smith")])
    insert_rows(
        PersonVariant,
        [variant("a", "Smyth"), variant("b", "Schmidt"), variant("b", "Schmitt")],
        ignore_conflicts=True,
    )
    stored = dict(PersonVariant.objects.filter(person=person).values_list("signature", "last_name"))
    assert stored == {"a": "Smith", "b": "Schmidt"}
    assert PersonVariant.objects.get(signature="b").created_at == at


def test_the_row_maker_adapts_every_value_as_its_fields_converter(make_lead):
    """The written-out row function gives what each field's own converter gives, for every
    kind of column: text (and a choices member, a str subclass), a boolean in an integer
    column, decimals, datetimes, JSON, keys and None."""
    from leadrefinery.common.db import _row_maker, db_converter
    from leadrefinery.leads.domain import Stage

    lead = Lead.objects.get(pk=make_lead().pk)
    lead.stage = Stage.SALES_READY  # a StrEnum member
    lead.opportunity_amount = Decimal("12.50")
    lead.custom = {"size": [1, "two", None]}
    fields = [f for f in Lead._meta.concrete_fields]
    values = dict(lead.__dict__)
    int_field = Lead._meta.get_field("sales_touch_count")
    values[int_field.attname] = True  # a bool where an int belongs: converted, not passed on

    def plain(row):
        # PostgreSQL wraps JSON for the driver; True == 1, so the types are compared too.
        return [(type(v), getattr(v, "obj", v)) for v in row]

    expected = [db_converter(f)(values[f.attname]) for f in fields]
    assert plain(_row_maker(fields)(values)) == plain(expected)
    converted = expected[fields.index(int_field)]
    assert converted == 1 and not isinstance(converted, bool)


def _notes(lead, count: int, at: datetime) -> list[LeadEvent]:
    return [
        LeadEvent(lead=lead, kind="note", occurred_at=at, actor=None, actor_label="t", note=str(i))
        for i in range(count)
    ]


@pytest.mark.parametrize("logged", [False, True])
def test_many_rows_are_written_alike_whether_queries_are_logged_or_not(make_lead, logged):
    """On SQLite a multi-row insert goes straight to the driver unless someone watches the
    queries; those who watch see it, and either way the rows and their ids are the same."""
    from django.test.utils import CaptureQueriesContext

    lead = make_lead()
    events = _notes(lead, 120, datetime(2026, 1, 1, tzinfo=UTC))
    if logged:
        with CaptureQueriesContext(connection) as seen:
            insert_rows(LeadEvent, events)
        inserts = [q["sql"] for q in seen.captured_queries if q["sql"].startswith("INSERT")]
        assert len(inserts) == 1
        if connection.vendor == "sqlite":  # PostgreSQL's statement holds one array per column
            assert "'119'" in inserts[0]  # the values shown, as Django shows them
    else:
        from leadrefinery.common import db

        assert db._to_the_driver() is (connection.vendor == "sqlite")
        insert_rows(LeadEvent, events)
    stored = dict(LeadEvent.objects.filter(lead=lead, kind="note").values_list("pk", "note"))
    assert stored == {e.pk: e.note for e in events}


def test_a_row_a_constraint_refuses_raises_djangos_integrity_error(make_lead):
    from django.db import IntegrityError, transaction

    from leadrefinery.dedupe.models import PersonVariant

    person = make_lead().person
    at = datetime(2026, 1, 1, tzinfo=UTC)
    twice = [
        PersonVariant(person=person, signature="same", created_at=at, email=f"x{i}@example.com")
        for i in range(2)
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(PersonVariant, twice)
    assert not PersonVariant.objects.filter(signature="same").exists()


def test_a_choice_is_written_as_its_value_as_the_orm_writes_it(make_lead):
    from leadrefinery.common.db import db_converter
    from leadrefinery.leads.domain import Stage

    field = Lead._meta.get_field("stage")
    written = db_converter(field)(Stage.SALES_READY)
    assert type(written) is str and written == field.get_db_prep_save(Stage.SALES_READY, connection)
    # Django's own text choices too (a value that is not its label).
    for model, name, member in (
        (IntakeRecord, "status", IntakeRecord.Status.PROCESSED),
        (LeadEvent, "kind", LeadEvent.Kind.CREATED),
        (IntakeRecord, "channel", IntakeRecord.Channel.IMPORT),
    ):
        written = db_converter(model._meta.get_field(name))(member)
        assert type(written) is str and written == member.value, member
    lead = make_lead()
    lead.stage = Stage.SALES_READY
    update_rows([lead], ["stage"])
    assert Lead.objects.filter(pk=lead.pk, stage="sales_ready").exists()


def test_every_column_of_every_model_writes_none_as_null():
    """The row maker passes None on without calling the column's converter: that must be
    what the converter (the ORM's get_db_prep_save) makes of it, for every column."""
    from django.apps import apps

    from leadrefinery.common.db import db_converter

    fields = [f for model in apps.get_models() for f in model._meta.concrete_fields]
    assert len(fields) > 300
    assert [f for f in fields if db_converter(f)(None) is not None] == []
    assert [f for f in fields if f.get_db_prep_save(None, connection) is not None] == []
