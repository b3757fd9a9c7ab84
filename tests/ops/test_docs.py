"""README.md and docs/: generated parts current, the README one screen, every link resolving."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import ALL_STACKS, ROOT
from xacct_ops import docs
from xacct_streaming.settings.props import BackendProps, EventSourceMappingProps, SharedStreamProps
from xacct_streaming.settings.ses_notifications import NotificationProps

pytestmark = pytest.mark.synth


@pytest.fixture(scope="module")
def blocks(cli_outdir: Path, library_outdir: Path) -> dict[str, str]:
    # make docs synthesizes the built-in stacks and examples/fanout.toml (conftest's library_outdir has it)
    from conftest import FANOUT_STACK

    fanout = library_outdir / "stacks" / FANOUT_STACK
    return {**docs.all_blocks(cli_outdir / "stacks"), **docs.stack_blocks(FANOUT_STACK, json.loads((fanout / "cdk.tf.json").read_text()))}


@pytest.mark.parametrize("path", docs.doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_parts_are_current(blocks: dict[str, str], path: Path) -> None:
    # GIVEN a page WHEN its generated parts are rendered again from the code and the synthesized stacks
    text = path.read_text()
    rendered, unknown = docs.render(text, blocks)
    # THEN nothing changes, and every part is one the generator knows
    assert unknown == []
    assert rendered == text, f"{path.relative_to(ROOT)} is stale: run make docs"


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_stack_page_has_each_generated_part(stack: str) -> None:
    text = (ROOT / "docs" / "stacks" / f"{stack}.md").read_text()
    for part in ("diagram", "resources", "settings", "variables", "outputs"):
        assert f"<!-- generated:{part}:{stack} -->" in text, part


def test_readme_is_one_screen_with_the_two_commands_and_the_core_picture() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    assert "\nmake          #" in readme and "\nmake test     #" in readme
    assert "<!-- generated:data-flow:xacct-kinesis-efo -->\n```mermaid\nflowchart LR\n" in readme
    assert not re.search(r"_[0-9A-F]{8}\b", readme), "hashed Terraform names in the README"


def test_every_relative_link_resolves() -> None:
    broken = []
    for path in [*docs.doc_files()]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
            if not target.startswith(("http://", "https://")) and not (path.parent / target).exists():
                broken.append(f"{path.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_every_stack_is_listed_and_linked(blocks: dict[str, str]) -> None:
    for stack in ALL_STACKS:
        assert f"| [`{stack}`](docs/stacks/{stack}.md) |" in blocks["stacks"]


@pytest.mark.parametrize(
    ("cls", "key", "expected"),
    [
        pytest.param(EventSourceMappingProps, "batch_size", "an integer from 1 to 10000", id="int-range"),
        pytest.param(SharedStreamProps, "stream_mode", "one of 'ON_DEMAND', 'PROVISIONED'", id="one-of"),
        pytest.param(EventSourceMappingProps, "enabled", "true or false", id="bool"),
        pytest.param(BackendProps, "bucket", "no value when backend.kind is 'local'", id="conditional"),
        pytest.param(NotificationProps, "event_types", "a non-empty list of distinct SES event types", id="list"),
    ],
)
def test_settings_reference_uses_the_props_own_rules(cls: type, key: str, expected: str) -> None:
    assert docs.allowed(cls, key) == expected


def test_settings_table_names_the_kinds_defaults(blocks: dict[str, str]) -> None:
    # The seed 003 stack's [function] default differs from the core stack's: the table shows the kind's own.
    assert "| `[mapping]` | `batch_size` | `100` | an integer from 1 to 10000 |" in blocks["settings:xacct-kinesis-efo"]
    assert '| `[function]` | `function_name` | `"xacct-change-consumer"` |' in blocks["settings:xacct-dynamodb-streams"]
    assert '| `[writer]` | `function_name` | `"xacct-replica-writer"` |' in blocks["settings:xacct-kinesis-replication"]


def test_variables_and_outputs_tables_come_from_the_json(blocks: dict[str, str]) -> None:
    assert "| `region` | `string` | AWS region of both accounts' resources;" in blocks["variables:xacct-kinesis-efo"]
    assert "region must be an AWS region name such as eu-west-1." in blocks["variables:xacct-kinesis-efo"]
    assert "| `tags` | `map(string)` (default `{}`) |" in blocks["variables:xacct-kinesis-efo"]
    assert "| `stream_consumer_arn` |" in blocks["outputs:xacct-kinesis-efo"]
    assert "| producer account | 7 | `aws_kinesis_resource_policy` ×2, `aws_kinesis_stream`," in blocks["resources:xacct-kinesis-efo"]


def test_checkov_exemptions_carry_their_resource_and_justification(blocks: dict[str, str]) -> None:
    from xacct_ops.scan import EXEMPTIONS

    rows = [line for line in blocks["checkov-skips"].splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [e.check_id for e in EXEMPTIONS]
    assert "| `CKV_AWS_18` | `aws_s3_bucket` `delivery/bucket` | Access logging of S3DeliveryStream's archive bucket" in blocks["checkov-skips"]
    assert "skip-check" not in (ROOT / ".checkov.yaml").read_text()


def test_render_rewrites_stale_parts_and_names_unknown_ones() -> None:
    # GIVEN a page with a stale part and one nothing generates
    text = "a\n<!-- generated:x -->\nold\n<!-- /generated:x -->\nb\n<!-- generated:nope -->\nkeep\n<!-- /generated:nope -->\n"
    # WHEN rendered
    rendered, unknown = docs.render(text, {"x": "new\n"})
    # THEN the known part is replaced, the other kept and named
    assert rendered == "a\n<!-- generated:x -->\nnew\n<!-- /generated:x -->\nb\n<!-- generated:nope -->\nkeep\n<!-- /generated:nope -->\n"
    assert unknown == ["nope"]


def test_check_mode_needs_synthesized_stacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert docs.main(["--stacks-dir", str(tmp_path / "missing"), "--check"]) == 2
    assert "run 'make synth' first" in capsys.readouterr().err


def test_quick_start_settings_fit_in_twenty_lines_and_synthesize(tmp_path: Path) -> None:
    # GIVEN the settings file the README shows whole (generated block)
    from conftest import run_main

    settings = ROOT / "examples" / "existing-stream.toml"
    assert f"```toml\n{settings.read_text()}```" in (ROOT / "README.md").read_text()
    assert len(settings.read_text().splitlines()) < 20
    # WHEN the README's command runs (make synth CONFIG=... STACK=orders-audit)
    result = run_main("--outdir", str(tmp_path / "out"), "--config", str(settings), "--stack", "orders-audit")
    # THEN exactly that stack is written
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("stacks/orders-audit")
    assert sorted(p.name for p in (tmp_path / "out" / "stacks").iterdir()) == ["orders-audit"]


def test_settings_tables_say_what_is_allowed_in_words() -> None:
    # GIVEN every stack page's generated settings table
    for page in sorted((ROOT / "docs" / "stacks").glob("*.md")):
        text = page.read_text()
        table = text[text.index("<!-- generated:settings:"):]
        table = table[: table.index("<!-- /generated:settings:")]
        # THEN no key is "any value" and no default is a Python repr
        assert "any value" not in table, page.name
        assert "Props(" not in table, page.name
