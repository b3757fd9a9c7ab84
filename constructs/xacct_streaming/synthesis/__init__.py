"""Synthesis: writing the app's stacks into the output directory (all or nothing), the fast
provider loading this project's own app enables, and the reproducible Lambda archives."""
