"""The access review sees every edit of every policy of every synthesized stack and example
(tests/harness/review_edits.py, `make review-edits`)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import ALL_STACKS, API_LOGGING_STACK, EXISTING_STACK, FANOUT_STACK, PROVISIONED_STACK, ROOT, SPLIT_PLANS, SPLIT_STACK

sys.path.insert(0, str(ROOT / "tests" / "harness"))
import review_edits  # noqa: E402

pytestmark = pytest.mark.slow  # two synths and one engine run of every edit: make test

EXAMPLES = (PROVISIONED_STACK, EXISTING_STACK, FANOUT_STACK, API_LOGGING_STACK)


@pytest.fixture(scope="module")
def outcomes(cli_outdir: Path, library_outdir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[review_edits.Outcome]:
    sides = review_edits.load_sides(cli_outdir / "stacks", list(ALL_STACKS))
    sides += review_edits.load_sides(library_outdir / "stacks", list(EXAMPLES), together={SPLIT_STACK: list(SPLIT_PLANS)})
    return review_edits.run(sides, tmp_path_factory.mktemp("edits"))


def test_every_edit_of_every_policy_is_seen(outcomes: list[review_edits.Outcome]) -> None:
    # GIVEN every Allow statement of every policy of the five stacks and the examples, edited every way
    table = review_edits.summary(outcomes)
    print("\n" + "\n".join(f"{stack}: {row['seen']} of {row['edits']} edits seen" for stack, row in sorted(table.items())))
    # THEN every stack and example has edits of every kind (principal edits only where a statement names principals)
    assert set(table) == {*ALL_STACKS, *EXAMPLES, SPLIT_STACK}
    kinds = Counter(o.edit.kind for o in outcomes)
    assert set(kinds) == set(review_edits.KINDS) and min(kinds.values()) >= 20, kinds
    # AND the review saw each one: an added, removed, changed, unknown or identity-only entry, or a finding
    assert [f"{o.edit.stack}: {o.edit.where}: {o.edit.kind} {o.edit.detail}" for o in outcomes if not o.seen] == []
    # AND docs/cli-and-atlantis.md says how many
    assert f"<!-- edits -->{len(outcomes):,} edits, all seen<!-- /edits -->" in (ROOT / "docs" / "cli-and-atlantis.md").read_text()


def test_a_principal_the_stacks_do_not_declare_or_anyone_is_a_finding(outcomes: list[review_edits.Outcome]) -> None:
    for outcome in outcomes:
        rules = {f.rule for f in outcome.review.findings}
        if outcome.edit.kind == "add principal: undeclared account":
            assert "principal outside the declared accounts" in rules, outcome.edit
        if outcome.edit.kind == "add principal: *":
            assert "wildcard principal" in rules, outcome.edit


def test_an_identity_only_edit_inside_an_account_shows_as_granted_by_the_identity_policy(outcomes: list[review_edits.Outcome]) -> None:
    # GIVEN an action added to a role's own policy on a resource of the role's own account
    own = [o for o in outcomes if o.edit.identity_in_own_account]
    assert len(own) >= 20
    for outcome in own:
        # THEN the role may now do it, granted by its identity policy
        added = [(a.action, a.granted_by) for a in outcome.review.added]
        assert (outcome.edit.detail, "identity policy") in added, (outcome.edit.stack, outcome.edit.where, added, outcome.review.unknown)


def test_a_resource_policy_grant_to_another_accounts_role_is_access_without_its_identity_policy(outcomes: list[review_edits.Outcome]) -> None:
    # GIVEN a stream policy's statement given one more action for the consumer account's reader role (issue 33's first case)
    (outcome,) = [o for o in outcomes if o.edit.stack == "xacct-kinesis-efo" and o.edit.kind == "add action"
                  and o.edit.where.startswith("aws_kinesis_resource_policy.shared-stream_stream-policy")]
    # THEN it is access of that role, granted by the resource policy alone (its account controls its own side)
    assert [(a.principal, a.action, a.granted_by) for a in outcome.review.added] == [
        ("arn:aws:iam::222222222222:role/xacct-stream-consumer-role", outcome.edit.detail, "resource policy")]
