"""A single-table variant of the app's DynamoDB data, beside the app, for the lab and /design."""
