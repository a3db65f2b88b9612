"""The explorer's pages (/tables ...) and its JSON API (/api/v1/tables ...). HTTP only.

The pages read with GET, the builder too (it only reads, so a builder URL can be bookmarked and
/design can link to a pre-filled one); the API's builder is a POST of a JSON body.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from lens import codegen, operations
from lens.capacity import Units
from lens.explorer import (
    Collection,
    CollectionsPage,
    ExplorerTable,
    PartitionPage,
    collections_page,
    explorer_tables,
    find_table,
    live_figures,
    partition_page,
    pynamodb_object,
)
from lens.operations import OperationResult
from lens.schemas import (
    CapacityOut,
    CollectionOut,
    CollectionsResponse,
    GeneratedCode,
    IndexSummary,
    OperationRequest,
    OperationResponse,
    TablesResponse,
    TableSummary,
)
from shared.errors import DomainError, InvalidInput
from shared.i18n import gettext as _
from shared.web import is_htmx, render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/tables", tags=["explorer"])
IndexParam = Annotated[str | None, Query(description="A secondary index of the table.")]
CursorParam = Annotated[str | None, Query(description="next_cursor of the previous page.")]
CountParam = Annotated[
    bool,
    Query(
        description="Count the index's items with a Scan (Select=COUNT) where DescribeTable "
        "does not report them; reads the whole index. Done by itself for small tables."
    ),
]


# -- the builder's form ------------------------------------------------------------------------


@dataclass(frozen=True)
class BuilderForm:
    """The builder's fields as typed (query parameters), before they are checked."""

    op: str = ""
    on: str = ""
    pk: str = ""
    sk_op: str = "="
    sk: str = ""
    sk2: str = ""
    limit: str = "20"
    order: str = "forward"
    consistent: str = ""
    filter_attr: str = ""
    filter_op: str = "="
    filter_value: str = ""
    start: str = ""
    """The signed LastEvaluatedKey of the page before (the "next page" link sets it)."""

    @classmethod
    def from_query(cls, request: Request) -> BuilderForm:
        given = request.query_params
        return cls(**{f.name: given[f.name] for f in fields(cls) if f.name in given})

    def to_request(self) -> OperationRequest:
        try:
            limit = int(self.limit)
        except ValueError:
            raise InvalidInput(
                _("Limit must be a whole number, not {limit!r}.").format(limit=self.limit)
            ) from None
        sort_key = None
        if self.sk:
            sort_key = {"op": self.sk_op, "value": self.sk, "value2": self.sk2 or None}
        filter_ = None
        if self.filter_attr:
            value = self.filter_value or None
            filter_ = {"attribute": self.filter_attr, "op": self.filter_op, "value": value}
        try:
            return OperationRequest.model_validate(
                {
                    "operation": self.op,
                    "index": self.on or None,
                    "partition_key": self.pk or None,
                    "sort_key": sort_key,
                    "limit": limit,
                    "forward": self.order != "backward",
                    "consistent_read": self.consistent in ("on", "true", "1"),
                    "filter": filter_,
                    "cursor": self.start or None,
                }
            )
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
                for e in error.errors()
            )
            raise InvalidInput(problems) from None

    def page_url(self, table: str, view_index: str, start: str = "") -> str:
        """This form run again from `start` (a page's next_cursor; empty: the first page), on
        the table page showing `view_index`."""
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        values = {"index": view_index, **given, "start": start, "run": "1"}
        query = urlencode({name: value for name, value in values.items() if value})
        return f"/tables/{quote(table, safe='')}?{query}#builder"

    def with_values(self, **changes: str) -> BuilderForm:
        return BuilderForm(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})


@dataclass(frozen=True)
class BuilderRun:
    result: OperationResult
    code: GeneratedCode


def run_builder(table: ExplorerTable, request: OperationRequest) -> BuilderRun:
    operation = operations.check(table, request)
    result = operations.run(operation)
    model, others = codegen.code_model(table, result.items)
    code = GeneratedCode(
        boto3=codegen.boto3_code(operation.name, result.request),
        pynamodb=codegen.pynamodb_code(operation, model, others),
    )
    return BuilderRun(result=result, code=code)


# -- pages ------------------------------------------------------------------------------------


@router.get("/tables")
def tables_page(request: Request) -> Response:
    """Every DynamoDB table of the app, from the model classes and DescribeTable."""
    rows = [(table, live_figures(table)) for table in explorer_tables()]
    return render(request, "lens/tables.html", {"rows": rows})


@router.get("/tables/{table}")
def table_page(
    request: Request,
    table: str,
    index: IndexParam = None,
    cursor: CursorParam = None,
    count: CountParam = False,
) -> Response:
    """The table's item collections (one Scan page) and the operation builder."""
    found = find_table(table)
    form = BuilderForm.from_query(request)
    if index and "on" not in request.query_params:
        form = form.with_values(on=index)  # the builder reads what the page shows: the index
    wants_run = request.query_params.get("run") == "1"
    if is_htmx(request) and wants_run:
        ctx = {
            "table": found,
            "form": form,
            **_builder_outcome(found, form),
        }
        return render(request, "lens/table.html", ctx, block="builder", status_code=_status(ctx))
    page = collections_page(found, index, cursor, count=count)
    form = _prefilled(form, page, index)
    outcome = _builder_outcome(found, form) if wants_run else {"run": None, "error": None}
    ctx = {"table": found, "page": page, "form": form, **outcome}
    return render(request, "lens/table.html", ctx, status_code=_status(ctx))


def _prefilled(form: BuilderForm, page: CollectionsPage, index: str | None) -> BuilderForm:
    """A builder opened from /design gets what its declaration leaves open from the items on
    the page (when they are read through the index the builder will use), so that it runs as
    it comes: a Query, the first collection's partition key; a GetItem, the whole key of an
    item shown, in the declared partition and with the declared sort-key prefix if an item
    has them (`sk = "USER#<user>"` declares a prefix, and a GetItem needs one exact value).
    A Scan takes no key: a filled one would only be refused."""
    if form.op not in ("GetItem", "Query") or (form.on or None) != index or not page.collections:
        return form
    first = page.collections[0]
    if form.op == "Query" or first.items[0].sort_key is None:
        return form if form.pk else form.with_values(pk=first.partition_key)
    if form.pk and form.sk and form.sk_op == "=":
        return form
    prefix = form.sk if form.sk_op == "begins_with" else ""
    keys = [
        (collection.partition_key, item.sort_key)
        for collection in page.collections
        for item in collection.items
        if item.sort_key is not None and item.sort_key.startswith(prefix)
    ]
    keys.sort(key=lambda found: found[0] != form.pk)  # the declared partition's first
    if not keys:
        return form
    pk, sk = keys[0]
    return form.with_values(pk=pk, sk_op="=", sk=sk)


def _builder_outcome(table: ExplorerTable, form: BuilderForm) -> dict[str, Any]:
    try:
        return {"run": run_builder(table, form.to_request()), "error": None}
    except DomainError as error:
        return {"run": None, "error": error}


def _status(ctx: dict[str, Any]) -> int:
    error = ctx.get("error")
    return error.status_code if isinstance(error, DomainError) else 200


@router.get("/tables/{table}/partitions/{pk:path}")
def partition_view(
    request: Request, table: str, pk: str, index: IndexParam = None, cursor: CursorParam = None
) -> Response:
    """One item collection, read with a Query; each item opens as DynamoDB JSON and as the
    PynamoDB object."""
    found = find_table(table)
    page = partition_page(found, pk, index, cursor)
    ctx = {
        "table": found,
        "page": page,
        "as_object": lambda item: pynamodb_object(found, item),
    }
    return render(request, "lens/partition.html", ctx)


# -- JSON API ---------------------------------------------------------------------------------


@api.get("", response_model=TablesResponse, summary="Describe every table")
def tables_json() -> TablesResponse:
    """Every DynamoDB table of the app: keys, indexes, TTL, and DescribeTable's figures."""
    return TablesResponse(tables=[_summary(table) for table in explorer_tables()])


@api.get(
    "/{table}/collections",
    response_model=CollectionsResponse,
    summary="List a table's item collections (Scan)",
)
def collections_json(
    table: str, index: IndexParam = None, cursor: CursorParam = None, count: CountParam = False
) -> CollectionsResponse:
    """One page of item collections, read with Scan (follow `next_cursor` for the next)."""
    page = collections_page(find_table(table), index, cursor, count=count)
    coverage = page.coverage
    return _collections_out(
        page.table,
        page.index.name if page.index else None,
        "Scan",
        [_collection_out(c) for c in page.collections],
        page.request,
        page.computed,
        page.reported,
        page.next_cursor,
        index_item_count=coverage.index_items if coverage else None,
        table_item_count=page.table_items,
    )


@api.get(
    "/{table}/partitions/{pk:path}",
    response_model=CollectionsResponse,
    summary="Read one item collection (Query)",
)
def partition_json(
    table: str, pk: str, index: IndexParam = None, cursor: CursorParam = None
) -> CollectionsResponse:
    """One item collection, read with a Query."""
    page: PartitionPage = partition_page(find_table(table), pk, index, cursor)
    return _collections_out(
        page.table,
        page.index.name if page.index else None,
        "Query",
        [_collection_out(page.collection)],
        page.request,
        page.computed,
        page.reported,
        page.next_cursor,
    )


@api.post(
    "/{table}/operations", response_model=OperationResponse, summary="Run a GetItem, Query or Scan"
)
def operation_json(table: str, body: OperationRequest) -> OperationResponse:
    """Run one GetItem, Query or Scan (never a write) and get it back as code."""
    found = find_table(table)
    done = run_builder(found, body)
    result = done.result
    return OperationResponse(
        operation=result.operation.name,
        table=found.name,
        index=result.operation.index.name if result.operation.index else None,
        items=[item.raw for item in result.items],
        item_types=[item.item_type.model for item in result.items],
        item_sizes=[item.size_bytes for item in result.items],
        count=result.count,
        scanned_count=result.scanned_count,
        last_evaluated_key=result.last_evaluated_key,
        next_cursor=result.next_cursor,
        capacity=_capacity(result.computed, result.reported),
        latency_ms=round(result.latency_ms, 2),
        request=result.request,
        code=done.code,
    )


def _summary(table: ExplorerTable) -> TableSummary:
    design = table.design
    live = live_figures(table)
    return TableSummary(
        name=table.name,
        base_name=design.base_name,
        model=design.item_types[0].model,
        models=[item_type.model for item_type in design.item_types],
        partition_key=design.hash_key,
        sort_key=design.range_key,
        indexes=[index.name for index in design.indexes],
        index_details=[
            IndexSummary(
                name=index.name,
                kind=index.kind,
                partition_key=index.hash_key,
                sort_key=index.range_key,
                projection=index.projection,
                item_count=live.index_item_counts.get(index.name),
            )
            for index in design.indexes
        ],
        ttl_attribute=design.ttl_attribute,
        item_count=live.item_count,
        size_bytes=live.size_bytes,
        status=live.status,
    )


def _collection_out(collection: Collection) -> CollectionOut:
    return CollectionOut(
        partition_key=collection.partition_key,
        items=[item.raw for item in collection.items],
        item_types=[item.item_type.model for item in collection.items],
        item_sizes=[item.size_bytes for item in collection.items],
        continued=collection.continued,
        continues=collection.continues,
    )


def _collections_out(
    table: ExplorerTable,
    index: str | None,
    read_with: str,
    collections: list[CollectionOut],
    request: dict[str, Any],
    computed: Units,
    reported: Units | None,
    next_cursor: str | None,
    *,
    index_item_count: int | None = None,
    table_item_count: int | None = None,
) -> CollectionsResponse:
    pk, sk = table.keys_of(table.index(index))
    return CollectionsResponse(
        table=table.name,
        index=index,
        partition_key_attribute=pk,
        sort_key_attribute=sk,
        read_with=read_with,
        collections=collections,
        index_item_count=index_item_count,
        table_item_count=table_item_count,
        next_cursor=next_cursor,
        request=request,
        capacity=_capacity(computed, reported),
    )


def _capacity(computed: Units, reported: Units | None) -> CapacityOut:
    return CapacityOut(
        computed_rcu=computed.read,
        reported_rcu=reported.read if reported is not None else None,
        precision=computed.precision.label,
        notes=list(computed.notes),
    )
