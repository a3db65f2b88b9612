"""Stop moto from keeping every DynamoDB model instance alive (written against moto 5.2.5).

moto's `BaseModel.__new__` appends each new instance to its class's `instances_tracked` list,
which only feeds moto's dashboard (`/moto-api/data.json`). For DynamoDB that includes every
`Item` deep-copied into a Query, Scan or UpdateItem response and every copy of a table that a
TransactWriteItems makes for its rollback, so a long-running server grows by about 20,000
objects per full Scan of 2,000 items and never frees them. With this patch, instances of the
DynamoDB model classes are not tracked: they are freed as soon as nothing else refers to them
(the dashboard then lists no DynamoDB objects; the tables themselves are unaffected).

Why `__new__` and not an empty list per class: moto's reset (`/moto-api/reset`, the end of
`mock_aws`) gives every class a fresh list again, and the patch must survive that.

Upstream shape: a per-service opt-out of instance tracking, as the dashboard is its only reader.
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import BaseModel
from moto.core.model_instances import model_data

UNTRACKED_SERVICES = frozenset({"dynamodb"})
_MARK = "_dynamodb_lab_untracked"


def _service_of(cls: type) -> str:
    """moto names a model's service by its module (`moto.<service>.models...`)."""
    parts = cls.__module__.split(".")
    return parts[1] if len(parts) > 1 else ""


def _new(cls: type, *_args: Any, **_kwargs: Any) -> Any:
    instance: Any = object.__new__(cls)
    if _service_of(cls) not in UNTRACKED_SERVICES:
        cls.instances_tracked.append(instance)  # type: ignore[attr-defined]
    return instance


def stop_tracking() -> None:
    """Patch `BaseModel.__new__` once, and drop what DynamoDB's classes hold already."""
    if not getattr(BaseModel, _MARK, False):
        BaseModel.__new__ = staticmethod(_new)  # type: ignore[method-assign]
        setattr(BaseModel, _MARK, True)
    for service in UNTRACKED_SERVICES:
        for model in model_data.get(service, {}).values():
            model.instances_tracked.clear()  # type: ignore[attr-defined]
