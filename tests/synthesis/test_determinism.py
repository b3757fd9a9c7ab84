"""Synthesizing twice gives byte-identical output, and re-synthesis keeps Terraform's working files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import DEFAULT_STACK


def _files(stack_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(stack_dir)): p.read_bytes() for p in sorted(stack_dir.rglob("*")) if p.is_file()}


def test_two_synths_are_byte_identical(cli_outdir: Path, library_outdir: Path) -> None:
    # GIVEN the default stack from `python main.py` and from the library in another process
    first = _files(cli_outdir / "stacks" / DEFAULT_STACK)
    second = _files(library_outdir / "stacks" / DEFAULT_STACK)
    # THEN every file, the Lambda archive included, is the same
    assert sorted(first) == sorted(second)
    # cdk.tf.json, the archive, the provider lock and versions.tf
    names = sorted(Path(name).name for name in first)
    archives = [name for name in names if name.endswith(".zip")]
    assert [name for name in names if name not in archives] == [".terraform.lock.hcl", "cdk.tf.json", "versions.tf"]
    assert len(archives) == 1 and re.fullmatch(r"[0-9a-f]{64}\.zip", archives[0]), names
    for name in first:
        assert first[name] == second[name], name


@pytest.mark.slow  # the naive synth imports the whole provider package (~17 s)
def test_lazy_provider_loading_changes_nothing_in_the_output(cli_outdir: Path, naive_outdir: Path) -> None:
    # GIVEN the same app synthesized with the lazy loader and with the full provider import
    fast = _files(cli_outdir / "stacks" / DEFAULT_STACK)
    naive = _files(naive_outdir / "stacks" / DEFAULT_STACK)
    # THEN byte for byte the same files, manifest included
    assert fast == naive
    assert (cli_outdir / "manifest.json").read_bytes() == (naive_outdir / "manifest.json").read_bytes()
