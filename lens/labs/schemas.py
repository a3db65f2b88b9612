"""The labs' JSON: what `/api/v1/labs...` returns, as Pydantic models for the OpenAPI schema.

A run's `result` is the lab's own document, the same one `manage.py lab NAME --format json`
prints; its keys differ from lab to lab (the README and each lab module list them).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class OptionOut(BaseModel):
    flag: str = Field(description="The CLI flag, e.g. `--clients`; the form field is the key.")
    default: int | list[int] | str
    low: int | None = Field(description="The smallest value (of each value, for a list).")
    high: int | None = Field(description="The largest value (of each value, for a list).")


class LabOut(BaseModel):
    name: str = Field(description="`manage.py lab NAME`, and the page `/labs/NAME`.")
    title: str
    proves: str = Field(description="The lesson the lab's figures show.")
    options: dict[str, OptionOut]
    options_schema: dict[str, Any] = Field(
        description="The options' JSON schema: the body of `POST /api/v1/labs/NAME/runs`."
    )


class LabsOut(BaseModel):
    labs: list[LabOut]


class StageOut(BaseModel):
    label: str
    done: int
    total: int | None = Field(description="null while the size of the stage is unknown.")


class LabRunOut(BaseModel):
    """A run started from /labs: its progress, then its result."""

    id: str
    lab: str
    status: Literal["running", "done", "failed", "cancelled"]
    cancelling: bool = Field(
        default=False, description="Cancel was asked: it stops at its next progress report."
    )
    seconds: float
    stages: list[StageOut]
    result: dict[str, Any] | None = Field(
        description="Once done: the lab's document, as `manage.py lab NAME --format json`."
    )
    error: str | None = Field(description="Why the run failed, when it did.")
