"""Stacks: one per system, each a TwoAccountStack (variables, backend, the providers of both
accounts) wiring building blocks together. docs/index.md maps each stack to its source document."""
