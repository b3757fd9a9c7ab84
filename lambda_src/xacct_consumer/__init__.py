"""The consumer runtime: decode, write idempotently, park poison records, report failures."""
