"""The kernel every context stands on: settings, DynamoDB and RDB wiring, web plumbing, events."""
