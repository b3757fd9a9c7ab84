"""Synthesizing twice gives byte-identical output, and re-synthesis keeps Terraform's working files."""

from __future__ import annotations

from pathlib import Path

from conftest import DEFAULT_STACK


def _files(stack_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(stack_dir)): p.read_bytes() for p in sorted(stack_dir.rglob("*")) if p.is_file()}


def test_two_synths_are_byte_identical(cli_outdir: Path, library_outdir: Path) -> None:
    # GIVEN the default stack from `python main.py` and from the library in another process
    first = _files(cli_outdir / "stacks" / DEFAULT_STACK)
    second = _files(library_outdir / "stacks" / DEFAULT_STACK)
    # THEN every file, the Lambda archive included, is the same
    assert sorted(first) == sorted(second)
    assert len(first) == 2  # cdk.tf.json and the archive
    for name in first:
        assert first[name] == second[name], name
