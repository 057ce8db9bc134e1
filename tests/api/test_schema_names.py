"""Every API schema has its own name. The OpenAPI document keys its components by class
name, so two apps each defining a ``RuleOut`` silently share one component: clients then read
routing rules with the scoring rule's schema (schemathesis found exactly that)."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema

from leadrefinery.api import api


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


def test_no_two_api_schemas_share_a_name():
    api.get_openapi_schema()  # imports every router, and so every schema
    by_name: dict[str, set[str]] = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("leadrefinery."):
            by_name[cls.__name__].add(cls.__module__)
    clashes = {name: sorted(mods) for name, mods in by_name.items() if len(mods) > 1}
    assert clashes == {}


def test_each_rule_list_is_described_by_its_own_schema():
    components = api.get_openapi_schema()["components"]["schemas"]
    assert "kind" in components["ScoringRuleOut"]["properties"]
    assert "target" in components["RuleOut"]["properties"]
