"""The embedded DynamoDB engine: moto's server run by a project-owned launcher, with on-disk
snapshots in the DynamoDB JSON format of AWS's table export.

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
