"""AccountsStack: what every stack of the app shares.

One Terraform configuration with the validated variables (`stack_variables.py`), a state
backend, and one aliased AWS provider per account, each assuming its own deploy role and pinned
to its account with `allowed_account_ids`. Providers are created here and only here; constructs
get them passed in. TwoAccountStack (producer + consumer) and FanoutStack (producer + N) say
which accounts there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from cdktf import Fn, LocalBackend, S3Backend, S3BackendAssumeRoleConfig, TerraformOutput, TerraformProvider, TerraformStack, Token
from constructs import Construct

from xacct_streaming.blocks.aws import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags, DataAwsPartition
from xacct_streaming.blocks.account_context import AccountContext
from xacct_streaming.blocks.consumer_alarms import ConsumerAlarms
from xacct_streaming.blocks.policy import policy_document
from xacct_streaming.settings.props import AlarmProps, BackendProps
from xacct_streaming.stacks.stack_variables import StackVariables, VariableSpec
from xacct_streaming.blocks.stream_consumer_function import StreamConsumerFunction
from xacct_streaming.blocks.synchronous_function import SynchronousFunction

STATE_DIR_FROM_STACK = "../../.."
PRODUCER = "producer"


@dataclass(frozen=True)
class Account:
    """One account of a stack: the provider alias is its name; ids and roles are variable expressions."""

    name: str
    account_id: str
    deploy_role_arn: str


class AccountsStack(TerraformStack):
    def __init__(
        self,
        scope: Construct,
        stack_name: str,
        backend: BackendProps,
        tags: Mapping[str, str] | None = None,
        *,
        specs: Sequence[VariableSpec],
        accounts: Callable[[StackVariables], Sequence[Account]],
    ) -> None:
        """`specs`: the Terraform variables; `accounts`: the accounts, from those variables (the
        first, normally the producer's, has the provider that reads the partition)."""
        super().__init__(scope, stack_name)
        self.stack_name = stack_name
        self._stack_tags = dict(tags or {})
        self.variables = StackVariables(self, specs)
        self._configure_backend(backend)
        self.accounts = {account.name: account for account in accounts(self.variables)}
        self.providers = {name: self._build_provider(account) for name, account in self.accounts.items()}
        # None in a consumer account's plan of a split fan-out (it has that account's provider alone).
        self.producer_provider = self.providers.get(PRODUCER)
        first = next(iter(self.providers.values()))
        self.partition = DataAwsPartition(self, "partition", provider=first).partition
        self.region = self.variables["region"]

    def require_existing_stream_location(self, existing: Any, consumer_variables: Sequence[str]) -> None:
        """The tfvars must put the producer where an existing stream is: in its region (a mapping
        reads a stream of its own region) and account, and no consumer in that account."""
        where = f"existing_stream.stream_arn ({existing.stream_arn})"
        self.variables.require("region", f'${{var.region == "{existing.region}"}}', f"region must be {existing.region}, the region of {where}.")
        self.variables.require(
            "producer_account_id", f'${{var.producer_account_id == "{existing.account_id}"}}',
            f"producer_account_id must be {existing.account_id}, the account of {where}.",
        )
        for variable in consumer_variables:
            self.variables.require(
                variable, f'${{var.{variable} != "{existing.account_id}"}}',
                f"{variable} must not be {existing.account_id}: that account holds {where}; the consumer is in another account.",
            )

    def provider(self, side: str) -> TerraformProvider:
        return self.providers[side]

    def context(self, side: str) -> AccountContext:
        """`side`'s account as the constructs need it (provider, partition, region, account id)."""
        return AccountContext(self.providers[side], self.partition, self.region, self.accounts[side].account_id)

    def account_id(self, side: str) -> str:
        return self.accounts[side].account_id

    def root_arn(self, side: str) -> str:
        return self.context(side).root_arn

    def role_arn(self, side: str, name: str) -> str:
        """The ARN a role named `name` has (or will have) in `side`'s account (AccountContext.role_arn)."""
        return self.context(side).role_arn(name)

    def log_group_arn(self, side: str, name: str) -> str:
        return self.context(side).log_group_arn(name)

    def function(self, id_: str, side: str, **options: Any) -> Any:
        """A function in `side`'s account (AccountContext.function)."""
        return self.context(side).function(self, id_, **options)

    def watch(self, id_: str, side: str, function: SynchronousFunction, props: AlarmProps, reads_stream: bool = True) -> ConsumerAlarms:
        """Alarms of `function` in `side`'s account (AccountContext.alarms)."""
        return self.context(side).alarms(self, id_, function, props, reads_stream)

    def _configure_backend(self, backend: BackendProps) -> None:
        if backend.kind == "s3":
            s3 = S3Backend(
                self,
                bucket=backend.bucket,
                key=backend.state_key(self.stack_name),
                region=backend.region,
                encrypt=True,
                kms_key_id=backend.kms_key_id,
                # The state account's role, not the deploy roles: state access is granted apart.
                assume_role=S3BackendAssumeRoleConfig(role_arn=backend.role_arn, session_name=f"{self.stack_name}-state"[:64]),
            )
            # Terraform >= 1.10 locks with an S3 object; no DynamoDB table to manage.
            s3.add_override("use_lockfile", True)
            return
        # Terraform runs in <outdir>/stacks/<stack>; the state lives beside <outdir> (the project
        # root by default), so re-synthesizing never touches it and the path is the same everywhere.
        state_file = backend.path or f"terraform.{self.stack_name}.tfstate"
        LocalBackend(self, path=f"{STATE_DIR_FROM_STACK}/{state_file}")

    def _build_provider(self, account: Account) -> AwsProvider:
        return AwsProvider(
            self,
            f"aws-{account.name}",
            alias=account.name,
            region=self.variables["region"],
            allowed_account_ids=[account.account_id],
            assume_role=[
                AwsProviderAssumeRole(
                    role_arn=account.deploy_role_arn,
                    session_name=f"{self.stack_name}-{account.name}"[:64],
                )
            ],
            # The stack's own tags (settings) over the deployment's (`tags` variable).
            default_tags=[AwsProviderDefaultTags(tags=Token.as_string_map(Fn.merge([self.variables.tags, self._stack_tags])) if self._stack_tags else self.variables.tags)],
        )

    def add_outputs(self, outputs: Mapping[str, tuple[Any, str]]) -> None:
        """name -> (value, description); every output gets a description."""
        for name, (value, description) in outputs.items():
            TerraformOutput(self, name, value=value, description=description)

    # The outputs every stack has, named and described the same way everywhere (terraform-aws-modules
    # style: the name starts with the resource). Stacks add their own with `add_outputs`.

    @staticmethod
    def stream_outputs(shared: Any, what: str = "the shared Kinesis stream") -> dict[str, tuple[Any, str]]:
        """stream_arn, stream_name, and stream_consumer_arn / kms_key_arn / kms_key_alias when this stack has them."""
        outputs = {
            "stream_arn": (shared.stream_arn, f"ARN of {what} (producer account)."),
            "stream_name": (shared.stream_name, f"Name of {what} (producer account)."),
        }
        if shared.stream_consumer is not None:
            outputs["stream_consumer_arn"] = (shared.stream_consumer.arn, "ARN of the enhanced fan-out consumer the function reads from (producer account).")
        if shared.key is not None:
            outputs["kms_key_arn"] = (shared.key.arn, f"ARN of the customer-managed key encrypting {what} (producer account).")
            outputs["kms_key_alias"] = (shared.key.alias.name, f"Alias of the key of {what} (producer account).")
        if shared.owner_statements:
            outputs["stream_policy_statements_for_owner"] = (
                policy_document(shared.owner_statements),
                f"Statements the owner of {what} must add to its resource policy before the first apply "
                "(this plan does not write that policy: existing_stream.take_over_policy is false). make preflight writes them to a file and checks.",
            )
        return outputs

    @staticmethod
    def function_outputs(function: Any, what: str, side: str, prefix: str = "") -> dict[str, tuple[Any, str]]:
        """The function, its role, log group, key (and queues, for a stream consumer). With no prefix
        the names are lambda_function_*, lambda_role_arn, dead_letter_queue_url, consumer_kms_key_arn;
        with one, <prefix>_function_*, <prefix>_role_arn, <prefix>_dead_letter_queue_url, <prefix>_kms_key_arn."""
        lead = f"{prefix}_" if prefix else ""
        head = f"{prefix}_function" if prefix else "lambda_function"
        outputs = {
            f"{head}_arn": (function.function_arn, f"ARN of {what} ({side} account)."),
            f"{head}_name": (function.function.function_name, f"Name of {what}."),
            f"{lead or 'lambda_'}role_arn": (function.role_arn, f"ARN of the execution role of {what}."),
            f"{lead or 'lambda_'}log_group_name": (function.log_group.name, f"CloudWatch log group of {what} ({side} account)."),
            f"{prefix or 'consumer'}_kms_key_arn": (function.key.arn, f"ARN of the key of {what}'s logs, queues and environment ({side} account)."),
        }
        if isinstance(function, StreamConsumerFunction):
            outputs[f"{lead}dead_letter_queue_url"] = (function.dead_letter_queue.url, f"SQS queue of {what}'s failed asynchronous invocations and undeliverable records.")
            outputs[f"{lead}on_failure_queue_url"] = (function.on_failure_queue.url, f"SQS queue receiving metadata of {what}'s batches that exhausted their retries.")
            outputs[f"{lead}on_failure_queue_arn"] = (function.on_failure_queue_arn, f"ARN of {what}'s on-failure queue.")
        return outputs

    @staticmethod
    def alarm_outputs(alarms: ConsumerAlarms, prefix: str = "") -> dict[str, tuple[Any, str]]:
        if alarms.topic is None:
            return {}
        return {f"{prefix}_alarm_topic_arn" if prefix else "alarm_topic_arn": (alarms.topic.arn, "Encrypted SNS topic the alarms notify.")}
