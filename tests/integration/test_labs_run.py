"""Smoke runs of every lab at tiny sizes, each on the private engine it starts itself, and of
the benchmark suite: they run, and their figures say what the lesson says."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

import activity.models  # noqa: F401 - registers the tables the labs copy
import engagement.comments.models  # noqa: F401
import engagement.likes.models  # noqa: F401
import sessions.models  # noqa: F401
from lens.labs import LABS
from lens.labs.cli import build_lab_cli
from lens.labs.lab import OptionSpec, build_options, option_specs
from lens.labs.runner import cancel_run, run_lab, start_run
from shared.i18n import use_language

ROOT = Path(__file__).resolve().parents[2]


def run(name: str, endpoint: str | None = None, **raw: Any) -> dict[str, Any]:
    lab = LABS[name]
    return run_lab(lab, build_options(lab.options, raw), endpoint=endpoint)


def test_query_cost_is_flat_while_scan_cost_grows_with_the_table() -> None:
    result = run("query-vs-scan", sizes="100,400")
    small, large = result["steps"]
    assert small["query"]["rcu"] == large["query"]["rcu"] == 0.5
    assert small["query"]["scanned"] == large["query"]["scanned"] == 20
    assert (small["scan"]["scanned"], large["scan"]["scanned"]) == (100, 400)
    assert large["scan"]["rcu"] > 3 * small["scan"]["rcu"]
    assert small["scan"]["returned"] == large["scan"]["returned"] == 20
    assert result["query_flat"] is True


def test_read_modify_write_loses_updates_where_add_and_optimistic_locking_do_not() -> None:
    result = run("counter", clients=8, increments=5)
    ways = result["ways"]
    rmw = ways["read-modify-write"]
    assert rmw["lost"] >= 1 or any("lost no update" in note for note in result["notes"])
    assert rmw["expected"] == rmw["final"] + rmw["lost"]
    assert ways["add"]["final"] == ways["add"]["expected"] == 40
    assert ways["optimistic"]["final"] == 40
    assert ways["optimistic"]["retries"] == ways["optimistic"]["conditional_failures"]


def test_a_split_relieves_keys_on_one_partition_but_never_one_hot_item() -> None:
    """The issue's figures: the shard keys on one partition are throttled, then relieved as it
    splits; the one counter item stays at the limit; the shards, apart, share the load out."""
    limit, split_after = 40, 2
    result = run(
        "hot-partition",
        clients=16,
        seconds=5,
        shards=16,
        partition_limit=limit,
        split_after_s=split_after,
    )
    adaptive = result["adaptive"]
    assert adaptive["split_after_s"] == split_after
    many, one, sharded = adaptive["runs"]
    assert [r["name"] for r in adaptive["runs"]] == [
        "many-keys-one-partition",
        "one-item",
        "sharded",
    ]
    assert all(len(r["accepted_per_s"]) == 5 for r in adaptive["runs"])

    assert many["partitions_before"] == 1 and many["splits"] >= 1
    assert many["partitions_after"] == 1 + many["splits"]
    before_split = many["accepted_per_s"][1:split_after]  # the first second spends the burst
    assert sum(many["accepted_per_s"][-2:]) / 2 > 1.5 * max(before_split)

    assert one["throttled"] > 0 and one["splits"] == 0 and one["partitions_after"] == 1
    # A partition takes `limit` units a second, plus the second's worth it starts with, plus
    # what refills while the last retries run past the deadline.
    assert sum(one["accepted_per_s"]) <= limit * (5 + 1.5)
    assert sum(one["accepted_per_s"][-3:]) / 3 <= limit * 1.2
    assert sum(many["accepted_per_s"][-2:]) / 2 > limit * 1.5

    assert sharded["partitions_before"] >= 16 and sharded["splits"] == 0
    assert _throttled_share(sharded) < _throttled_share(one) / 2
    assert sum(sharded["accepted_per_s"]) > 2 * sum(one["accepted_per_s"])

    single = result["runs"]["single"]
    assert single["per_key"] == {"42": single["accepted"]} == {"42": sum(one["accepted_per_s"])}
    assert single["counted"] == single["accepted"]
    assert set(result["runs"]["sharded"]["per_key"]) == {"42", *(f"42#{s}" for s in range(1, 16))}
    assert result["engine"]["options"] == {
        "partition_limit": 40.0,
        "partitions": 1,
        "split_after_s": 2.0,
    }


def _throttled_share(measured: dict[str, Any]) -> float:
    calls = measured["throttled"] + sum(measured["accepted_per_s"])
    return float(measured["throttled"] / calls)


def test_ttl_deletes_expired_items_late_and_reads_filter_them_meanwhile() -> None:
    result = run("ttl", seconds=6)
    samples = result["samples"]
    assert all(s["visible"] <= s["stored"] for s in samples)
    assert samples[0]["deleted_by_ttl"] == 0
    assert samples[-1]["deleted_by_ttl"] > 0
    assert any(s["expired"] > s["deleted_by_ttl"] for s in samples)  # expired, not yet deleted
    manual = result["manual_cleanup"]
    assert manual["deleted"] == samples[-1]["expired"]
    assert manual["wcu"] >= manual["deleted"] and manual["rcu"] > 0


def test_a_write_pays_each_gsi_its_item_lands_in_and_a_sparse_one_only_for_its_items() -> None:
    result = run("gsi-cost", items=40)
    per_write = {name: v["wcu_per_write"] for name, v in result["variants"].items()}
    assert (per_write["no-gsi"], per_write["one-gsi"], per_write["two-gsi"]) == (1, 2, 3)
    share = result["items_with_feed_key"] / result["items"]
    assert per_write["sparse-gsi"] == pytest.approx(1 + share)
    assert 1 < per_write["sparse-gsi"] < 2


def test_strong_reads_never_miss_a_fresh_write_and_cost_twice_eventual_and_gsi_reads_can() -> None:
    result = run("consistency", reads="30", delays_ms="0,1500", lag_ms="1000")
    assert result["lab"] == "consistency"
    rows = {(r["mode"], r["delay_ms"]): r for r in result["reads"]}
    assert set(rows) == {
        (mode, delay) for mode in ("eventual", "strong", "gsi") for delay in (0, 1500)
    }
    for row in rows.values():
        assert {"mode", "delay_ms", "reads", "stale", "rcu_per_read"} <= set(row)
        assert row["reads"] == 30 and 0 <= row["stale"] <= 30
    assert all(rows["strong", delay]["stale"] == 0 for delay in (0, 1500))
    assert 0.1 <= rows["eventual", 0]["stale"] / 30 <= 0.6  # about one read in three
    assert rows["gsi", 0]["stale"] == 30  # the index lags 500-1,000 ms behind every write
    assert rows["eventual", 1500]["stale"] == rows["gsi", 1500]["stale"] == 0  # caught up
    assert [rows[mode, 0]["rcu_per_read"] for mode in ("eventual", "strong", "gsi")] == [
        0.5,
        1.0,
        0.5,
    ]
    assert result["gsi_consistent_read"] == {"refused": True, "error": "ValidationException"}
    assert result["engine"]["options"] == {"gsi_lag_ms": 1000, "replica_lag_ms": 1000}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("C.UTF-8", "Strongly consistent reads missed it 0 times"),
        ("ja_JP.UTF-8", "見逃したのは 0 回"),
    ],
)
def test_the_consistency_lab_runs_in_the_terminal_in_both_languages(
    language: str, expected: str
) -> None:
    command = [sys.executable, "manage.py", "lab", "consistency", "--reads", "5"]
    command += ["--delays-ms", "0,1200", "--lag-ms", "1000"]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "LANG": language, "LC_ALL": "", "LC_MESSAGES": "", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert expected in " ".join(done.stdout.split())
    json_run = subprocess.run(
        [*command, "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    reads = json.loads(json_run.stdout)["reads"]
    assert [(r["mode"], r["delay_ms"]) for r in reads][:3] == [
        ("eventual", 0),
        ("strong", 0),
        ("gsi", 0),
    ]


def test_a_lab_on_another_endpoint_leaves_no_table_behind(engine_endpoint: str) -> None:
    result = run("gsi-cost", endpoint=engine_endpoint, items=10)
    assert result["engine"]["endpoint"] == engine_endpoint
    client = boto3.client(
        "dynamodb",
        endpoint_url=engine_endpoint,
        region_name="ap-northeast-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    assert not [name for name in client.list_tables()["TableNames"] if name.startswith("lab-gsi")]


def test_a_lab_on_another_endpoint_says_what_that_engine_cannot_show(engine_endpoint: str) -> None:
    result = run("ttl", endpoint=engine_endpoint, seconds=4)
    assert any("real DynamoDB" in note for note in result["notes"])


def test_the_cli_prints_exactly_one_json_document_with_the_issues_keys() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "lab", "counter", "--clients", "4", "--increments", "3"]
        + ["--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["lab"] == "counter"
    assert set(result["ways"]) == {"read-modify-write", "add", "optimistic"}
    assert {"expected", "final", "lost"} <= set(result["ways"]["add"])
    assert "retries" in result["ways"]["optimistic"]


def test_ctrl_c_stops_a_cli_run_with_a_message_and_leaves_no_engine_behind() -> None:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "lab", "ttl", "--seconds", "60"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A terminal's Ctrl-C: SIGINT with Python's default handler (not ignored, as it is in a
        # process started in the background by a non-interactive shell).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    deadline = time.monotonic() + 60
    while not (engines := _engines_started_by(process.pid)):  # its private engine is up
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(3)  # into the watching
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Cancelled: the ttl lab stopped and its private engine was stopped." in err
    assert "Traceback" not in err
    assert not any(map(_alive, engines))


def test_the_cli_refuses_a_bad_option_with_a_message() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "lab", "query-vs-scan", "--sizes", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "--sizes must be between 100 and 100,000" in done.stderr


def test_the_benchmark_suite_runs_every_figure_at_tiny_sizes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--results", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    (written,) = tmp_path.glob("*.json")
    figures = {f["name"]: f for f in json.loads(written.read_text())["figures"]}
    assert len(figures) >= 7
    assert not [f["name"] for f in figures.values() if f["measured"].startswith("error")]
    timeline = next(f for name, f in figures.items() if name.startswith("user timeline RCU"))
    assert timeline["verdict"] == "PASS"
    calls = next(f for name, f in figures.items() if name.startswith("post page DynamoDB calls"))
    assert calls["verdict"] == "PASS"
    measured = [f for f in figures.values() if not f["measured"].startswith("skipped")]
    assert all(f["value"] is not None and f["value"] == f["value"] for f in measured)


def test_a_cancelled_run_stops_at_its_next_report_and_frees_the_server_for_another() -> None:
    """A 60-second TTL lab, cancelled once it is watching: it ends within a sample or two, as
    `cancelled`, its private engine stopped; the next run may start at once."""

    lab = LABS["ttl"]
    # The session's shared engine is this process's child too: only the run's own engine counts.
    shared = _engines_started_by(os.getpid())
    run_ = start_run(lab, build_options(lab.options, {"seconds": "60"}))
    deadline = time.monotonic() + 60
    while not any(stage.label.startswith("watching") for stage in run_.stages):
        assert run_.status == "running" and time.monotonic() < deadline, run_.as_dict()
        time.sleep(0.1)
    engines = _engines_started_by(os.getpid()) - shared
    cancel_run(run_)
    assert run_.as_dict()["cancelling"] is True
    while run_.status == "running":
        assert time.monotonic() < deadline, "the cancelled run did not stop"
        time.sleep(0.1)
    assert run_.status == "cancelled" and run_.result is None and run_.seconds < 20
    assert engines and not any(map(_alive, engines))  # its private engine is gone
    assert cancel_run(run_).status == "cancelled"  # asking again changes nothing
    again = start_run(lab, build_options(lab.options, {"seconds": "4"}))
    cancel_run(again)
    while again.status == "running":
        time.sleep(0.1)
    assert again.status == "cancelled"


SHOWS = {"en": "What this shows:", "ja": "ここからわかること:"}


def _smallest(spec: OptionSpec) -> list[str]:
    """The flag at the option's smallest value: every lab's lower bounds must run too."""
    value = spec.choices[0] if spec.kind == "choice" else str(spec.low)
    return [spec.flag, value]


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("name", list(LABS))
def test_every_lab_runs_to_the_end_in_each_language(
    name: str, language: str, engine_endpoint: str
) -> None:
    """The `manage.py lab NAME` command at the smallest sizes its options allow, in each
    language: the figures, the view and every sentence. A translated word used as a key
    (query-vs-scan's rows once were) fails here. In process and on the shared engine, so that
    ten runs take seconds; the next test runs one as a learner would, with LANG."""
    flags = [part for spec in option_specs(LABS[name].options) for part in _smallest(spec)]
    with use_language(language):
        done = CliRunner().invoke(
            build_lab_cli(lambda: None), [name, *flags, "--endpoint", engine_endpoint]
        )
    assert done.exit_code == 0, done.output
    assert SHOWS[language] in done.stdout
    assert SHOWS["ja" if language == "en" else "en"] not in done.stdout


def test_a_lab_speaks_the_language_of_lang_in_a_terminal() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LC_")}
    done = subprocess.run(
        [sys.executable, "manage.py", "lab", "query-vs-scan", "--sizes", "100,200"],
        cwd=ROOT,
        env={**env, "LANG": "ja_JP.UTF-8", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert SHOWS["ja"] in done.stdout and "クエリ" in done.stdout


def test_a_script_starts_a_lab_through_the_api_and_polls_it_to_the_end(live_client) -> None:  # type: ignore[no-untyped-def]
    token = live_client.get("/api/v1/auth/session").json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    refused = live_client.post("/api/v1/labs/gsi-cost/runs", json={"items": 5}, headers=headers)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "items"]
    started = live_client.post("/api/v1/labs/gsi-cost/runs", json={"items": 10}, headers=headers)
    assert started.status_code == 202, started.text
    url = f"/api/v1/labs/gsi-cost/runs/{started.json()['id']}"
    deadline = time.monotonic() + 120
    while (run_ := live_client.get(url).json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert run_["status"] == "done", run_
    assert run_["result"]["options"] == {"items": 10}


def _alive(pid: int) -> bool:
    """Running, or stopped but not yet reaped by its parent (a zombie is gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _engines_started_by(parent: int) -> set[int]:
    """Engine servers (`python -m engine`) whose parent is `parent`, read from /proc: only the
    lab's own, whatever other engines run on the machine."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            argv = (status.parent / "cmdline").read_bytes().split(b"\0")
            ppid = next(
                line for line in status.read_text().splitlines() if line.startswith("PPid:")
            )
        except (OSError, StopIteration):
            continue
        if b"-m" in argv and b"engine" in argv and int(ppid.split()[1]) == parent:
            found.add(int(status.parent.name))
    return found


@pytest.mark.parametrize(
    ("name", "raw", "english"),
    [
        ("counter", {"clients": 2, "increments": 1}, {"read-modify-write, 2 clients", "add"}),
        (
            "hot-partition",
            {"clients": 1, "seconds": 1, "shards": 2, "partition_limit": 5},
            {"one counter key", "2 counter shards", "single", "sharded"},
        ),
    ],
)
def test_a_japanese_run_names_its_stages_and_rows_in_japanese(
    name: str, raw: dict[str, Any], english: set[str], engine_endpoint: str
) -> None:
    """The progress bars and the rows of the results table are read by the learner too: in
    Japanese neither may show the English identifiers the lab keys its figures by."""
    lab = LABS[name]
    stages: set[str] = set()
    with use_language("ja"):
        result = run_lab(
            lab,
            build_options(lab.options, raw),
            endpoint=engine_endpoint,
            progress=lambda stage, _done, _total: stages.add(stage),
        )
        cells = {row[0] for table in lab.view(result).tables for row in table.rows}
    assert not stages & english, stages
    assert not cells & english, cells


@pytest.mark.parametrize("language", ["en", "ja"])
def test_query_vs_scan_at_one_size_says_what_it_measured_without_a_growth(language: str) -> None:
    """One size is allowed (the smallest run there is): its sentence states the two costs at
    that size and asks for a second size, never that the table "grew no" or "0x"."""
    with use_language(language):
        shows = LABS["query-vs-scan"].view(run("query-vs-scan", sizes="100")).shows
    assert "grew" not in shows and "倍" not in shows, shows
    assert "100" in shows
