#!/usr/bin/env python3
"""A team's own CDKTF app on the installed library: their handler reads an existing stream.

    pip install <path or git URL of this repository>
    python examples/library_app/main.py --outdir cdktf.out

It uses only the public API (`import xacct_streaming`), builds the stack itself in its own `App`,
and prints where the library was imported from (tests/test_library.py runs it against a
`pip install` of this repository).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import xacct_streaming as xs

HERE = Path(__file__).resolve().parent


def build(outdir: Path) -> Path:
    xs.enable_fast_provider_loading()  # optional: about a second of imports instead of ~17 s
    from cdktf import App

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
    app = App(outdir=str(outdir))
    stack = xs.CrossAccountStreamingStack(app, props)
    stack.add_outputs({"team_function_arn": (stack.consumer.function.arn, "ARN of the team's function.")})
    app.synth()
    return outdir / "stacks" / props.stack_name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    args = parser.parse_args()
    stack_dir = build(args.outdir)
    print(f"library {Path(xs.__file__).parent}")
    print(f"synthesized {stack_dir}")


if __name__ == "__main__":
    main()
