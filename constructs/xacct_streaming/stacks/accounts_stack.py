"""AccountsStack: what every stack of the app shares.

One Terraform configuration with the validated variables (`stack_variables.py`), a state
backend, and one aliased AWS provider per account, each assuming its own deploy role and pinned
to its account with `allowed_account_ids`. Providers are created here and only here; constructs
get them passed in. TwoAccountStack (producer + consumer) and FanoutStack (producer + N) say
which accounts there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

from xacct_streaming.framework import Fn, LocalBackend, S3Backend, S3BackendAssumeRoleConfig, TerraformOutput, TerraformProvider, TerraformStack, Token
from constructs import Construct

from xacct_streaming.blocks.aws import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags, DataAwsPartition
from xacct_streaming.blocks.account_context import AccountContext
from xacct_streaming.blocks.consumer_alarms import ConsumerAlarms, metric_alarm
from xacct_streaming.blocks.stack_dashboard import StackDashboard, Watched
from xacct_streaming.blocks.policy import policy_document
from xacct_streaming.settings import defaults
from xacct_streaming.settings.errors import ConfigError
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
    # The account id as a Terraform expression (`var.producer_account_id`), for plan-time rules on it.
    id_expression: str = ""


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
        # The name of the stack's alarm topics and dashboards (a split fan-out's plans: the fan-out's, so
        # each account's are named as in a single plan).
        self.monitoring_name = stack_name
        self._alarm_topics: dict[str, str] = {}  # account -> the topic its alarms notify
        self._monitored: dict[str, Watched] = {}  # account -> what its dashboard shows

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
        """`side`'s account as the constructs need it (provider, partition, region, account id, name)."""
        return AccountContext(self.providers[side], self.partition, self.region, self.accounts[side].account_id, side)

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

    # ---- monitoring: every alarm notifies its account's topic; a dashboard per account ----------------

    def alarm_topic_arn(self, side: str, props: AlarmProps) -> Optional[str]:
        """The topic `side`'s alarms notify: the stack's own there (made on first use, `<stack>-alarms`),
        or the existing one the settings name for that account; None when alarms notify nobody."""
        if not props.notification_topic:
            return None
        if side not in self._alarm_topics:
            existing = props.existing_topic_arns.get(side)
            if existing is not None:
                region = existing.split(":")[3]
                self.variables.require("region", f'${{var.region == "{region}"}}',
                                       f"region must be {region}, the region of alarms.existing_topic_arns.{side} ({existing}): an alarm notifies a topic of its own region.")
                self._alarm_topics[side] = existing
            else:
                self._alarm_topics[side] = self.context(side).alarm_topic(self, f"{side}-alarm-topic", name=f"{self.monitoring_name}-alarms", props=props).arn
            for subscription in props.subscriptions:
                if subscription.account == side and subscription.endpoint_account is not None:
                    self._require_account_id(side, subscription.endpoint_account,
                                             f"alarms.subscriptions: {subscription.endpoint} must be in the {side} account, whose alarm topic it subscribes to.")
        return self._alarm_topics[side]

    def _require_account_id(self, side: str, account_id: str, message: str) -> None:
        """A plan-time rule: `side`'s account id (a variable) is `account_id`."""
        expression = self.accounts[side].id_expression
        self.variables.require(expression.split(".")[1], f'${{{expression} == "{account_id}"}}', f"{message} ({expression} must be {account_id})")

    def _watched(self, side: str) -> Watched:
        return self._monitored.setdefault(side, Watched())

    def watch(self, id_: str, side: str, function: SynchronousFunction, props: AlarmProps, *, retention_hours: Optional[int] = None,
              mapping: Any = None, mapping_uuid: Optional[str] = None, event_counts: bool = False) -> ConsumerAlarms:
        """Alarms of `function` in `side`'s account (AccountContext.alarms) on its account's topic, and its
        place on the account's dashboard. `retention_hours`: its source's, for a function a mapping drives
        (the iterator age alarm); `mapping` (StreamEventSourceMapping, or its `mapping_uuid`) and
        `event_counts` (its metrics_config is on): the mapping's event counts on the dashboard."""
        mapping_uuid = mapping.mapping.uuid if mapping is not None else mapping_uuid
        alarms = self.context(side).alarms(self, id_, function, props, reads_stream=retention_hours is not None,
                                           topic_arn=self.alarm_topic_arn(side, props),
                                           retention_hours=retention_hours or defaults.STREAM_RETENTION_HOURS)
        watched = self._watched(side)
        name = function.props.function_name
        watched.functions.append(name)
        watched.readers += [name] if retention_hours is not None else []
        watched.mappings += [(name, mapping_uuid)] if mapping_uuid is not None and event_counts else []
        if isinstance(function, StreamConsumerFunction):
            watched.queues += [function.props.dead_letter_queue_name, function.props.on_failure_queue_name]
        watched.alarms += alarms.all
        watched.alarm_names += alarms.names
        return alarms

    def watch_stream_reads(self, id_: str, side: str, stream_name: str, props: AlarmProps) -> Any:
        """Reads throttled on a stream its polling readers share (2 MB/s and 5 GetRecords calls a second
        per shard between them): ReadProvisionedThroughputExceeded, in the stream's account."""
        self._watched(side).streams.append(stream_name)
        return self._metric_alarm(id_, side, props, name=f"{stream_name}-reads-throttled", namespace="AWS/Kinesis",
                                  metric="ReadProvisionedThroughputExceeded", dimensions={"StreamName": stream_name}, statistic="Sum",
                                  threshold=props.read_throughput_exceeded_threshold,
                                  description=f"GetRecords calls on {stream_name} are throttled: its polling readers fall behind")

    def watch_api(self, id_: str, side: str, api_name: str, stage: str, props: AlarmProps) -> Any:
        """5XX answers of an API stage (an authorizer or integration failing, throttled or misconfigured)."""
        self._watched(side).apis.append((api_name, stage))
        return self._metric_alarm(id_, side, props, name=f"{api_name}-{stage}-5xx", namespace="AWS/ApiGateway", metric="5XXError",
                                  dimensions={"ApiName": api_name, "Stage": stage}, statistic="Sum", threshold=props.api_5xx_threshold,
                                  description=f"API {api_name} ({stage}) answers 5XX: its authorizer or its integration fails")

    def _metric_alarm(self, id_: str, side: str, props: AlarmProps, *, name: str, namespace: str, metric: str, dimensions: Mapping[str, str],
                      statistic: str, threshold: int, description: str) -> Any:
        alarm = metric_alarm(self, id_, provider=self.providers[side], props=props, name=name, description=description, namespace=namespace,
                             metric=metric, dimensions=dimensions, statistic=statistic, threshold=threshold,
                             comparison="GreaterThanOrEqualToThreshold", topic_arn=self.alarm_topic_arn(side, props))
        self._watched(side).alarms.append(alarm)
        self._watched(side).alarm_names.append(name)
        return alarm

    def finish_monitoring(self, props: AlarmProps) -> dict[str, tuple[Any, str]]:
        """After every alarm: the settings' accounts checked against those that have alarms, a dashboard
        per account (`props.dashboard`), and the outputs: each account's alarm topic, every alarm's name,
        each dashboard's name."""
        alarmed = sorted(self._monitored)
        for subscription in props.subscriptions if props.notification_topic else ():
            if subscription.account is not None and subscription.account not in alarmed:
                raise ConfigError("alarms.subscriptions.account", subscription.account, f"an account of {self.stack_name} that has alarms: {', '.join(alarmed)}")
        for account in props.existing_topic_arns:
            if account not in alarmed:
                raise ConfigError(f"alarms.existing_topic_arns.{account}", props.existing_topic_arns[account],
                                  f"an entry for an account of {self.stack_name} that has alarms: {', '.join(alarmed)}")
        dashboards = {}
        if props.dashboard:
            for side in alarmed:
                StackDashboard(self, f"{side}-dashboard", provider=self.providers[side], name=self.monitoring_name, region=self.region,
                               watched=self._monitored[side])
                dashboards[side] = self.monitoring_name
        outputs: dict[str, tuple[Any, str]] = {
            "alarm_names": ({side: sorted(w.alarm_names) for side, w in sorted(self._monitored.items())}, "Name of every alarm of this stack, by account."),
        }
        if self._alarm_topics:
            outputs["alarm_topic_arns"] = (dict(self._alarm_topics), "SNS topic each account's alarms notify (encrypted, its subscribers), by account.")
        if dashboards:
            outputs["dashboard_names"] = (dashboards, "CloudWatch dashboard of this stack, by account.")
        return outputs

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

