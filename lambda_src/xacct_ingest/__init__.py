"""The API's basic-auth Lambda authorizer (seed 002)."""
