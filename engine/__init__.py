"""The lab's DynamoDB engine: moto's server, made durable, faithful and flat-cost.

`python -m engine` (`engine.server`) serves moto's DynamoDB with the project's additions: one
lock and a synced journal (`gate`, `journal`), snapshots of its own state (`compaction`,
`store`, in the format of `export_format`), a TTL sweeper (`ttl`), per-partition throttling
(`throttle`), eventual consistency that lags as DynamoDB's does when asked (`lag`, `replicas`)
and the patches that make reads flat-cost and capacity real (`patches`).
`launcher` starts it as a child process for `make run`, the tests and the benchmarks;
`snapshots` exports and imports tables over the API, against any endpoint.

The app never imports this package: `manage.py` (the CLI) starts the engine and points
`DYNAMODB_ENDPOINT` at it, exactly as it would point it at DynamoDB Local or real AWS.
"""

__doc_ja__ = """組み込みの DynamoDB エンジン: プロジェクト独自のランチャーで動かす moto
のサーバーと、AWS のテーブルエクスポートと同じ DynamoDB JSON
形式のディスク上のスナップショット。

アプリはこのパッケージを import しません。`manage.py`（CLI）がエンジンを起動し、
DynamoDB Local や実際の AWS を指すときと同じように `DYNAMODB_ENDPOINT`
をエンジンに向けます。
"""
