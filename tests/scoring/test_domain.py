"""The pure scoring engine: fit with self-reported weight, caps, half-life decay, the matrix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadrefinery.routing.domain import Condition, Op
from leadrefinery.scoring import domain as d

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def fit_rule(id_, points, field="title", op=Op.CONTAINS, value="director", self_reported=False):
    return d.Rule(
        id=id_,
        name=f"rule {id_}",
        kind=d.RuleKind.FIT,
        points=points,
        conditions=(Condition(field, op, value),),
        self_reported=self_reported,
    )


def visit_rule(points=3, cap=15, half_life=30, id_=10):
    return d.Rule(
        id=id_,
        name="Page visit",
        kind=d.RuleKind.ENGAGEMENT,
        points=points,
        event_type="page_visit",
        daily_cap=cap,
        half_life_days=half_life,
    )


def test_self_reported_answers_count_at_reduced_weight():
    rules = [
        fit_rule(1, 30),
        fit_rule(2, 40, field="budget", op=Op.IS_NOT_EMPTY, value=None, self_reported=True),
    ]
    fit = d.fit_score(rules, {"title": "Sales Director", "budget": "lots"}, d.Config())
    assert fit.points == 30 + 20
    assert fit.grade == "B"
    assert any("self-reported" in c.reason for c in fit.contributions)


def test_negative_signals_lower_the_grade():
    rules = [fit_rule(1, 30), fit_rule(2, -40, field="email_domain", op=Op.CONTAINS, value=".edu")]
    fit = d.fit_score(rules, {"title": "director", "email_domain": "uni.edu"}, d.Config())
    assert (fit.points, fit.grade) == (-10, "D")


def test_daily_cap_limits_points_per_rule_per_day():
    rules = [visit_rule()]
    earned: dict[int, int] = {}
    given_points = []
    for i in range(8):
        awards, earned = d.award(rules, d.Event("page_visit", T0 + timedelta(minutes=i)), earned)
        given_points.append(sum(a.points for a in awards))
    assert given_points == [3, 3, 3, 3, 3, 0, 0, 0]


def test_event_conditions_select_rules():
    pricing = d.Rule(
        id=2,
        name="Pricing page",
        kind=d.RuleKind.ENGAGEMENT,
        points=10,
        event_type="page_visit",
        conditions=(Condition("url", Op.CONTAINS, "pricing"),),
    )
    awards, _ = d.award(
        [visit_rule(), pricing], d.Event("page_visit", T0, properties={"url": "/pricing"}), {}
    )
    assert sorted(a.points for a in awards) == [3, 10]


def test_points_halve_every_half_life():
    past = [d.Past(1, 40, T0, 30), d.Past(2, -10, T0, None)]
    assert d.engagement_at(past, T0) == 30
    assert d.engagement_at(past, T0 + timedelta(days=30)) == 10
    assert d.engagement_at(past, T0 + timedelta(days=60)) == 0


def test_next_change_is_the_first_day_the_rounded_score_moves():
    past = [d.Past(1, 40, T0, 30)]
    due = d.next_change(past, 40, T0)
    assert due == T0 + timedelta(days=1)  # 40 * 0.5 ** (1/30) = 39.1 -> 39
    assert d.next_change([d.Past(1, 5, T0, None)], 5, T0) is None


def test_temperature_from_the_matrix_and_hand_raisers():
    config = d.Config()
    assert (
        d.temperature(config, grade="A", engagement=70, hand_raised_at=None, at=T0).value == "hot"
    )
    assert (
        d.temperature(config, grade="D", engagement=0, hand_raised_at=None, at=T0).value == "cold"
    )
    raised = d.temperature(config, grade="D", engagement=0, hand_raised_at=T0, at=T0)
    assert raised.value == "hot" and "hand-raiser" in raised.reasons[0]
    later = T0 + timedelta(days=config.hand_raiser_hot_days)
    assert (
        d.temperature(config, grade="D", engagement=0, hand_raised_at=T0, at=later).value == "cold"
    )


@pytest.mark.parametrize(
    "matrix",
    [
        {"A": {}},
        {g: {"high": "boiling", "medium": "hot", "low": "hot", "none": "hot"} for g in "ABCD"},
    ],
)
def test_a_broken_matrix_is_refused(matrix):
    with pytest.raises(ValueError):
        d.Config.from_json(
            grades={"A": 60, "B": 40, "C": 20}, bands=d.DEFAULT_BANDS.as_json, matrix=matrix
        )


def test_thresholds_must_fall():
    with pytest.raises(ValueError):
        d.Config.from_json(
            grades={"A": 10, "B": 40, "C": 20},
            bands=d.DEFAULT_BANDS.as_json,
            matrix=d.DEFAULT_MATRIX.as_json,
        )


@given(
    points=st.lists(st.integers(-50, 50), min_size=1, max_size=20),
    ages=st.lists(st.integers(0, 400), min_size=20, max_size=20),
    half_life=st.integers(1, 90),
)
def test_decay_never_grows_a_score_and_next_change_agrees(points, ages, half_life):
    now = T0 + timedelta(days=400)
    past = [
        d.Past(1, p, now - timedelta(days=a), half_life) for p, a in zip(points, ages, strict=False)
    ]
    today = d.engagement_at(past, now)
    later = d.engagement_at(past, now + timedelta(days=30))
    assert abs(later) <= abs(d.decayed(past, now)) + 0.5
    due = d.next_change(past, today, now)
    if due is not None:
        assert d.engagement_at(past, due) != today
        assert d.engagement_at(past, due - timedelta(days=1)) == today or due == now + timedelta(
            days=1
        )


REMEMBERED_RULES = (
    fit_rule(1, 20),
    fit_rule(2, 15, field="company", op=Op.IS_NOT_EMPTY, value=None),
    fit_rule(3, 10, field="employees", op=Op.EQUALS, value="1"),
    fit_rule(4, 5, field="employees", op=Op.RANGE, value=[1, 10]),
    fit_rule(5, -15, field="email_domain", op=Op.IN, value=["gmail.com"]),
    fit_rule(6, 7, field="tags", op=Op.CONTAINS, value="vip"),
    d.Rule(
        id=7,
        name="Pricing",
        kind=d.RuleKind.HAND_RAISER,
        points=0,
        conditions=(Condition("message", Op.CONTAINS_ANY, ["pricing", "quote"]),),
    ),
    d.Rule(
        id=8,
        name="Demo",
        kind=d.RuleKind.HAND_RAISER,
        points=0,
        conditions=(Condition("request_type", Op.IN, ["demo"]),),
    ),
)
_VALUES = st.one_of(
    st.none(),
    st.sampled_from(["", "Director", "Acme", "1", "1.0", "True", "0", "gmail.com", " vip "]),
    st.sampled_from([0, 1, 1.0, True, False, 5, 10.5]),
    st.lists(st.sampled_from(["vip", "x"]), max_size=2),  # not a key: worked out each time
)


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                ["title", "company", "employees", "email_domain", "tags", "message", "request_type"]
            ),
            _VALUES,
        ),
        min_size=1,
        max_size=30,
    )
)
def test_remembered_answers_are_the_rules_own(inquiries):
    """Fit and hand-raiser remembered by the values the rules read: the same as working them
    out, for inquiries whose values are equal as keys but not as conditions read them (1,
    1.0, True and "1"), for values that cannot be keys, and when the memory starts over."""
    config = d.Config()
    remembered = d.Remembered(REMEMBERED_RULES, config, size=3)
    for fields in inquiries * 2:  # each seen twice: the second from memory
        assert remembered.fit_score(fields) == d.fit_score(REMEMBERED_RULES, fields, config)
        assert remembered.hand_raiser(fields) == d.hand_raiser(REMEMBERED_RULES, fields)


def test_remembered_tells_apart_what_conditions_tell_apart():
    remembered = d.Remembered(REMEMBERED_RULES, d.Config())
    assert remembered.fit_score({"employees": "1"}).points == 15  # equals "1", in range
    assert remembered.fit_score({"employees": 1.0}).points == 5  # "1.0": in range only
    assert remembered.fit_score({"employees": 1}).points == 15
    assert remembered.fit_score({"employees": True}).points == 0
    assert remembered.hand_raiser({"message": "a quote please"}).name == "Pricing"
    assert remembered.hand_raiser({"message": "hello"}) is None
    assert remembered.hand_raiser({"message": "a quote please", "title": "CEO"}).name == "Pricing"
