"""A throwaway table for the design, describe and export tests, registered only for one test.

The registries are module lists that only grow; `isolated_registries` swaps in copies so a
test may register a model or declare a pattern and leave nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection, Projection
from pynamodb.models import Model

from shared import access_patterns as access_patterns_module
from shared import dynamo
from shared.access_patterns import access_pattern


def make_gadget_model(
    index_projection: Projection | None = None, table: str = "gadgets"
) -> type[Model]:
    """A fresh class every call: PynamoDB reads `Meta` at class creation, and the registry
    records the base table name when a class is first registered."""

    class OwnerIndex(GlobalSecondaryIndex["Gadget"]):
        class Meta:
            index_name = "OwnerIndex"
            projection = index_projection or KeysOnlyProjection()

        owner = UnicodeAttribute(hash_key=True)
        made_at = UnicodeAttribute(range_key=True)

    class Gadget(Model):
        """A throwaway table for tests: PK `gadget_id`, SK `made_at`; GSI `OwnerIndex`."""

        class Meta:
            table_name = table

        gadget_id = UnicodeAttribute(hash_key=True)
        made_at = UnicodeAttribute(range_key=True)
        owner = UnicodeAttribute(null=True)
        weight = NumberAttribute(null=True)
        version = VersionAttribute()
        expires_at = TTLAttribute(null=True)
        owner_index = OwnerIndex()

    return Gadget


@pytest.fixture
def isolated_registries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamo, "_registry", dynamo.registered_models())
    monkeypatch.setattr(
        access_patterns_module, "_patterns", access_patterns_module.access_patterns()
    )


def declare_gadget_patterns(model: type[Model]) -> None:
    """Two patterns, as a context would declare them next to its service functions."""

    @access_pattern(
        name="Gadgets of an owner",
        model=model,
        operation="Query",
        key="owner = :o",
        index="OwnerIndex",
        page="/design",
    )
    def gadgets_of_owner(*, owner: str) -> list[Model]:
        return list(model.owner_index.query(owner))  # type: ignore[attr-defined]

    @access_pattern(name="One gadget", model=model, operation="GetItem", key="gadget_id = :g")
    def gadget(*, gadget_id: str, made_at: str) -> Model:
        return model.get(gadget_id, made_at)


@pytest.fixture
def make_gadget() -> Callable[..., type[Model]]:
    """The factory, for tests that register their own variant."""
    return make_gadget_model


@pytest.fixture
def gadget_model(isolated_registries: None, unit_client: object) -> Iterator[type[Model]]:
    """The throwaway model, registered, bound to the test's engine, with its patterns."""
    model = dynamo.register_model(make_gadget_model())
    dynamo.bind_models(dynamo.bound_settings(), [model])
    declare_gadget_patterns(model)
    yield model
