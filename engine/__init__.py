"""The embedded DynamoDB engine: moto's server run by a project-owned launcher, with on-disk
snapshots in the DynamoDB JSON format of AWS's table export.

The app never imports this package: `manage.py` (the CLI) starts the engine and points
`DYNAMODB_ENDPOINT` at it, exactly as it would point it at DynamoDB Local or real AWS.
"""
