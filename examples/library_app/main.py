#!/usr/bin/env python3
"""A team's own CDKTF app on the installed library: their handler reads an existing stream.

    pip install <path or git URL of this repository>
    python examples/library_app/main.py --outdir cdktf.out

It uses only the public API (`import xacct_streaming`): the stack from props, plus the team's own
resources next to it (an output and a reports bucket in the consumer account), all through
`synthesize(..., customize=...)`, so they get the library's safety nets (derived names checked,
versions.tf and the provider lock, all or nothing written). It prints where the library was imported
from (tests/synthesis/test_library.py runs it against a `pip install` of this repository).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import xacct_streaming as xs

HERE = Path(__file__).resolve().parent


def build(outdir: Path) -> Path:
    xs.enable_fast_provider_loading()  # optional: about a second of imports instead of ~17 s

    props = xs.StackProps(
        stack_name="orders-audit",
        existing_stream=xs.ExistingStreamProps(
            stream_arn="arn:aws:kinesis:eu-west-1:111111111111:stream/orders",
            key_arn="arn:aws:kms:eu-west-1:111111111111:key/0f3b1c2d-1111-2222-3333-444455556666",
        ),
        function=xs.ConsumerFunctionProps(
            function_name="orders-audit-reader",
            key_alias="alias/orders-audit-reader",
            source_dir=str(HERE.parent / "orders_reader"),
            handler="app.lambda_handler",
            runtime="python3.13",
            environment={"TEAM": "orders"},
        ),
        sink=xs.SinkProps(table_name="orders-audit-sink"),
        tags={"team": "orders"},
    )

    def add_team_resources(app: object, stacks: list) -> None:
        # The provider class through the library's seam: this app runs on either framework line
        # (XACCT_FRAMEWORK=cdktf|cdktn, docs/migration.md).
        S3Bucket = xs.aws_module("s3_bucket").S3Bucket

        (stack,) = stacks
        consumer = stack.context("consumer")
        S3Bucket(stack, "team-reports", provider=consumer.provider, bucket=f"orders-audit-reports-{consumer.account_id}")
        stack.add_outputs({"team_function_arn": (stack.consumer.function.arn, "ARN of the team's function.")})

    (stack_dir,) = xs.synthesize([props], outdir=outdir, customize=add_team_resources)
    return stack_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    args = parser.parse_args()
    stack_dir = build(args.outdir)
    print(f"library {Path(xs.__file__).parent}")
    print(f"synthesized {stack_dir}")


if __name__ == "__main__":
    main()
