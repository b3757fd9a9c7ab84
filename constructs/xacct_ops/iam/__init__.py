"""The IAM model of the synthesized stacks, shared by `make policy-check` and `make access-review`.

- `policy`: a call to decide (Call) and a policy document as IAM reads it;
- `resolver`: values of `${...}` references, with the one stand-in scheme for what is not known;
- `stack`: a stack's policies (identity, resource, key, trust, Lambda permissions);
- `calls`: the calls the running system makes, per resource type, with what AWS sends (`request_context`);
- `engine`: the independent IAM engine (`evaluate.cjs`, @cloud-copilot/iam-simulate) that decides them;
- `sources`: where stacks come from (synthesized directories, plans, states);
- `data`: AWS's actions and resource types, as the engine reads them.
"""
