"""Sessions context: sign-up, sign-in, sign-out; sign-in state as TTL'd DynamoDB items."""
