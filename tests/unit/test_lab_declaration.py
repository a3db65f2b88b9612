"""A lab is declared once: a lab defined here, in the test, and registered with one line gets
its form, its CLI command, its JSON API schema and their checks without any other code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from fastapi.testclient import TestClient
from pydantic import Field
from typer.testing import CliRunner

from lens.labs import LABS
from lens.labs.charts import Series, line_chart
from lens.labs.cli import build_lab_cli
from lens.labs.context import LabContext
from lens.labs.lab import Lab, LabOptions, LabView, Result, ResultTable
from shared.i18n import N_
from tests.conftest import in_process_app

HTMX = {"HX-Request": "true"}
# An address nothing listens on: the throwaway lab makes no DynamoDB call, so `--endpoint`
# lets its CLI run end to end without starting an engine.
NO_ENGINE = "http://127.0.0.1:9"


class ThrowawayOptions(LabOptions):
    clients: int = Field(
        4,
        ge=1,
        le=8,
        title=N_("Concurrent clients"),
        description=N_("Short-lived items expire within this window."),
    )
    batch: int = Field(100, ge=100, le=1_000, multiple_of=100, title="Items per batch")
    sizes: list[Annotated[int, Field(ge=100, le=900)]] = Field(
        [100, 200], min_length=1, max_length=3, title="Sizes"
    )
    read: Literal["eventual", "strong"] = Field("eventual", title="Read consistency")


def run(lab: LabContext, options: ThrowawayOptions) -> Result:
    lab.progress("counting", 1, 1)
    return {"total": options.clients * options.batch}


def view(result: Result) -> LabView:
    chart = line_chart(title="t", x_label="x", y_label="y", xs=[1], series=[Series("s", [1])])
    table = ResultTable("totals", ["total"], [[str(result["total"])]])
    return LabView(shows=f"{result['total']} in all", chart=chart, tables=[table])


LAB = Lab(
    name="throwaway",
    title="A throwaway lab",
    proves="Declaring a lab once is enough.",
    lesson="",
    mirrors=(),
    pages=(),
    options=ThrowawayOptions,
    run=run,
    view=view,
)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry line, as a test writes it."""
    monkeypatch.setitem(LABS, LAB.name, LAB)


@pytest.fixture
def client(
    registered: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[TestClient]:
    with in_process_app(monkeypatch, tmp_path) as app_client:
        yield app_client


def test_the_form_has_an_input_per_option_with_its_bounds_step_and_default(
    client: TestClient,
) -> None:
    page = client.get("/labs/throwaway").text
    assert (
        '<input type="number" id="option-clients" name="clients" value="4" min="1" max="8" '
        'step="1" required aria-describedby="help-clients">'
    ) in page
    assert 'name="batch" value="100" min="100" max="1000" step="100"' in page
    assert 'name="sizes" value="100,200"' in page
    assert '<option value="strong">strong</option>' in page
    assert "Short-lived items expire within this window." in page
    japanese = client.get("/labs/throwaway?lang=ja").text
    assert "同時に動くクライアント数" in japanese  # label and help are msgids, translated here
    assert "Concurrent clients" not in japanese


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"clients": "9"}, "--clients must be between 1 and 8 (got 9)."),
        ({"batch": "150"}, "--batch must be a multiple of 100."),
        ({"sizes": "100,950"}, "--sizes must be between 100 and 900 (got 950)."),
        ({"read": "sometimes"}, "--read must be one of: eventual, strong."),
    ],
)
def test_a_bad_value_on_the_form_is_a_422_that_says_why(
    client: TestClient, form: dict[str, str], message: str
) -> None:
    token = client.get("/api/v1/auth/session").json()["csrf_token"]
    response = client.post("/labs/throwaway/runs", data={**form, "csrf_token": token}, headers=HTMX)
    assert response.status_code == 422
    assert message in response.text


def test_the_api_publishes_the_options_with_their_constraints(client: TestClient) -> None:
    openapi = client.get("/openapi.json").json()
    start = openapi["paths"]["/api/v1/labs/throwaway/runs"]["post"]
    body = start["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ThrowawayOptions"}
    schema = openapi["components"]["schemas"]["ThrowawayOptions"]
    assert schema["additionalProperties"] is False
    clients = schema["properties"]["clients"]
    assert (clients["minimum"], clients["maximum"], clients["default"]) == (1, 8, 4)
    assert schema["properties"]["batch"]["multipleOf"] == 100
    sizes = schema["properties"]["sizes"]
    assert (sizes["minItems"], sizes["maxItems"], sizes["items"]["maximum"]) == (1, 3, 900)
    assert schema["properties"]["read"]["enum"] == ["eventual", "strong"]
    listed = {lab["name"]: lab for lab in client.get("/api/v1/labs").json()["labs"]}
    assert listed["throwaway"]["options_schema"]["properties"]["clients"]["maximum"] == 8


@pytest.mark.parametrize(
    ("body", "where"),
    [({"clients": 9}, ["body", "clients"]), ({"clients": 2, "colour": "red"}, ["body", "colour"])],
)
def test_a_bad_value_in_the_api_is_a_422_with_a_json_body(
    client: TestClient, body: dict[str, Any], where: list[str]
) -> None:
    token = client.get("/api/v1/auth/session").json()["csrf_token"]
    response = client.post(
        "/api/v1/labs/throwaway/runs", json=body, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 422
    assert [issue["loc"] for issue in response.json()["detail"]] == [where]


def test_the_cli_command_has_a_flag_per_option_and_runs_the_lab(registered: None) -> None:
    cli = build_lab_cli(lambda: None)
    runner = CliRunner()
    help_text = runner.invoke(cli, ["throwaway", "--help"], env={"COLUMNS": "200"}).output
    for flag in ("--clients", "--batch", "--sizes", "--read", "--format", "--endpoint"):
        assert flag in help_text
    assert "Concurrent clients (1 to 8). Short-lived items expire within this window." in help_text
    done = runner.invoke(
        cli,
        ["throwaway", "--clients", "3", "--batch", "200", "--format", "json"]
        + ["--endpoint", NO_ENGINE],
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["total"] == 600
    assert result["options"] == {
        "clients": 3,
        "batch": 200,
        "sizes": [100, 200],
        "read": "eventual",
    }


def test_the_cli_refuses_a_bad_value_with_a_sentence_not_a_traceback(registered: None) -> None:
    refused = CliRunner().invoke(build_lab_cli(lambda: None), ["throwaway", "--sizes", "1,2"])
    assert refused.exit_code == 2
    assert "--sizes must be between 100 and 900 (got 1)." in refused.stderr
    assert refused.exception is None or isinstance(refused.exception, SystemExit)


def test_the_cli_help_is_in_the_language_of_lang(
    registered: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    help_text = (
        CliRunner()
        .invoke(build_lab_cli(lambda: None), ["throwaway", "--help"], env={"COLUMNS": "200"})
        .output
    )
    assert "同時に動くクライアント数" in help_text


def test_an_option_without_bounds_or_label_is_refused_when_the_lab_is_declared() -> None:
    with pytest.raises(TypeError, match="needs Field"):

        class Unbounded(LabOptions):
            clients: int = Field(4, title="Clients")

    with pytest.raises(TypeError, match="needs a title"):

        class Unlabelled(LabOptions):
            clients: int = Field(4, ge=1, le=8)
