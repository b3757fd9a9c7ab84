"""The access review (`make access-review`): who gains and who loses access in a change.

- `access`: what it lists (Access, Snapshot, Finding);
- `candidates`: what a stack's policies grant, as calls to decide;
- `decide`: each decided by the IAM engine (xacct_ops.iam), identity and resource sides apart;
- `diff`, `findings`, `render`: the difference of two sides, what fails it, as markdown or JSON;
- `live`: the live policies of a deployed stack as a side; `efo_prices`: what enhanced fan-out costs;
- `cli`: the command (python -m xacct_ops.access_review).
"""
