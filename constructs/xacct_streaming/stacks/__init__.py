"""Stacks: one per system, each an AccountsStack (variables, backend, one provider per account: two for
the five source documents' stacks, TwoAccountStack; N for the fan-out) wiring building blocks together.
docs/index.md maps each stack to its source document."""
