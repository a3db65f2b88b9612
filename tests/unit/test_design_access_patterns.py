"""Every index a service queries is named by an access pattern declared where it is served.

Two checks, because each alone can miss something:
* in the source of every context's `service.py`: a call `Model.<index>.query|scan|count(...)`
  inside a function, or inside a private helper the function calls, must be covered by an
  `@access_pattern` of that function naming the index;
* through the app: after seeding, every page a pattern names is opened, and every call the
  inspector lists on an index must come from a function whose declared pattern names it.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from pynamodb.indexes import Index

from shared.access_patterns import access_patterns
from shared.dynamo import registered_models
from shared.seeding import SeedPlan, seeders
from shared.settings import PROJECT_ROOT
from tests.conftest import ApiUser

INDEX_CALLS = ("query", "scan", "count")
ROW = re.compile(
    r'<tr data-operation="(?P<operation>\w+)" data-table="[^"]*" data-index="(?P<index>[^"]*)"'
    r'\s+data-served-by="(?P<served_by>[^"]*)"'
)


@dataclass
class FunctionUses:
    indexes: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)


def index_attributes() -> dict[tuple[str, str], str]:
    """(model class name, class attribute) -> index name, for every registered model."""
    return {
        (model.__name__, attribute): value.Meta.index_name
        for model in registered_models()
        for attribute, value in vars(model).items()
        if isinstance(value, Index)
    }


def uses_in(source: str, indexes: dict[tuple[str, str], str]) -> dict[str, FunctionUses]:
    """What each top-level function queries directly, and which top-level functions it calls."""
    tree = ast.parse(source)
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    uses = {name: FunctionUses() for name in functions}
    for name, node in functions.items():
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            target = call.func
            if isinstance(target, ast.Name) and target.id in functions:
                uses[name].calls.add(target.id)
            index = _index_of(target, indexes)
            if index:
                uses[name].indexes.add(index)
    return uses


def _index_of(target: ast.expr, indexes: dict[tuple[str, str], str]) -> str | None:
    if not (isinstance(target, ast.Attribute) and target.attr in INDEX_CALLS):
        return None
    owner = target.value
    if isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name):
        return indexes.get((owner.value.id, owner.attr))
    return None


def undeclared_index_uses(
    module: str, uses: dict[str, FunctionUses], declared: Iterable[tuple[str, str | None]]
) -> list[str]:
    """Every index query not covered by a pattern of the declared function that reaches it."""
    pairs = set(declared)
    declared_functions = {function for function, _ in pairs}

    def qualified(name: str) -> str:
        return f"{module}.{name}"

    def reached(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found = set(uses[name].indexes)
        for callee in uses[name].calls - seen:
            if qualified(callee) not in declared_functions:
                found |= reached(callee, seen | {name})
        return found

    problems = []
    covered_helpers: set[str] = set()
    for name in uses:
        if qualified(name) in declared_functions:
            for index in sorted(reached(name)):
                if (qualified(name), index) not in pairs:
                    problems.append(f"{qualified(name)} queries {index}, no pattern of it names it")
            covered_helpers |= _helpers(name, uses, declared_functions, qualified)
    for name, use in uses.items():
        if use.indexes and qualified(name) not in declared_functions | covered_helpers:
            for index in sorted(use.indexes):
                problems.append(f"{qualified(name)} queries {index} with no access pattern")
    return problems


def _helpers(
    name: str, uses: dict[str, FunctionUses], declared: set[str], qualified: Any
) -> set[str]:
    """The undeclared functions a declared one reaches (their queries are its own)."""
    found: set[str] = set()
    pending = list(uses[name].calls)
    while pending:
        callee = pending.pop()
        if qualified(callee) in declared or qualified(callee) in found:
            continue
        found.add(qualified(callee))
        pending += uses[callee].calls
    return found


def declared_pairs() -> list[tuple[str, str | None]]:
    return [(p.function, p.index) for p in access_patterns()]


def test_every_service_index_query_is_declared_by_its_function(unit_client: TestClient) -> None:
    indexes = index_attributes()
    problems = []
    for path in sorted(PROJECT_ROOT.glob("*/service.py")):
        module = f"{path.parent.name}.service"
        importlib.import_module(module)
        uses = uses_in(path.read_text(encoding="utf-8"), indexes)
        problems += undeclared_index_uses(module, uses, declared_pairs())
    assert problems == []


HELPER_SOURCE = """
def _read_shard(key):
    return Gadget.owner_index.query(key)

def gadgets_of_owner(*, owner):
    return _read_shard(owner)

def gadget_by_weight(*, weight):
    return list(Gadget.weight_index.query(weight))
"""


def test_the_source_check_fails_on_an_undeclared_index_query() -> None:
    indexes = {("Gadget", "owner_index"): "OwnerIndex", ("Gadget", "weight_index"): "WeightIndex"}
    uses = uses_in(HELPER_SOURCE, indexes)
    declared = [("gadgets.service.gadgets_of_owner", "OwnerIndex")]
    assert undeclared_index_uses("gadgets.service", uses, declared) == [
        "gadgets.service.gadget_by_weight queries WeightIndex with no access pattern"
    ]
    wrong = [("gadgets.service.gadgets_of_owner", None)]
    assert undeclared_index_uses("gadgets.service", uses, wrong)[0] == (
        "gadgets.service.gadgets_of_owner queries OwnerIndex, no pattern of it names it"
    )


def seed_a_little() -> SeedPlan:
    plan = SeedPlan(users=2, posts=3, likes_per_post=1, comments_per_post=1, activities=20)
    for seeder in seeders():
        seeder.run(plan, lambda _done: None)
    return plan


def pages_of_patterns(plan: SeedPlan) -> list[str]:
    values = {"post_id": str(plan.post_ids[0]), "username": plan.viewers[0].username}
    pages = {"/", "/design"}
    for pattern in access_patterns():
        page = pattern.page or ""
        filled = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), page)
        if filled.startswith("/") and "{" not in filled:
            pages.add(filled)
    return sorted(pages)


def test_every_index_a_page_queries_is_named_by_an_access_pattern(
    unit_client: TestClient,
) -> None:
    from blog.seed import DEMO_PASSWORD

    plan = seed_a_little()
    user = ApiUser(TestClient(unit_client.app), plan.viewers[0].username, DEMO_PASSWORD)
    assert user.call("POST", "/api/v1/auth/login", json=user.credentials()).status_code == 200
    pairs = set(declared_pairs())
    declared_functions = {function for function, _ in pairs}
    seen, problems = [], []
    for page in pages_of_patterns(plan):
        response = user.client.get(page)
        assert response.status_code == 200, f"{page}: {response.status_code}"
        for row in ROW.finditer(response.text):
            call = row.groupdict()
            seen.append(call)
            if call["served_by"] not in declared_functions:
                problems.append(f"{page}: {call['operation']} by {call['served_by'] or '?'}")
            elif call["index"] and (call["served_by"], call["index"]) not in pairs:
                problems.append(f"{page}: {call['served_by']} queried {call['index']} undeclared")
    assert seen, "the pages made no DynamoDB call"
    assert problems == []
