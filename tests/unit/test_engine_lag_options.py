"""Where the engine's lag is set: `make run` lags by default, everything else only when asked."""

from __future__ import annotations

from typing import Any

import pytest
import typer

import manage
from engine.launcher import LocalEngine
from engine.server import parse_args


def run_option(name: str) -> Any:
    run = typer.main.get_command(manage.cli).commands["run"]  # type: ignore[attr-defined]
    return next(param for param in run.params if param.name == name)


@pytest.mark.parametrize(
    ("name", "variable"), [("gsi_lag_ms", "GSI_LAG_MS"), ("replica_lag_ms", "REPLICA_LAG_MS")]
)
def test_make_run_lags_300_ms_unless_the_environment_says_otherwise(
    name: str, variable: str
) -> None:
    option = run_option(name)
    assert option.default == manage.RUN_LAG_MS == 300
    assert option.envvar == variable


def test_the_engine_and_the_launcher_do_not_lag_unless_asked() -> None:
    options = parse_args(["--in-memory"])
    assert options.gsi_lag_ms == options.replica_lag_ms == 0
    assert not any("lag" in part for part in LocalEngine()._command(8001))


def test_the_launcher_passes_the_lag_it_was_given() -> None:
    command = LocalEngine(gsi_lag_ms=200, replica_lag_ms=150)._command(8001)
    assert command[-4:] == ["--gsi-lag-ms", "200", "--replica-lag-ms", "150"]


def test_a_negative_lag_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--gsi-lag-ms", "-1"])
    assert "must be 0 or more" in capsys.readouterr().err
