"""What belongs to a resource dies with it: side tables the embedded backend keeps beside a resource, keyed by a name
or ARN a later resource can have again, are cleared when the resource goes (persistence review round 5).

Tags are `fresh_tags`; this module handles the other two tables moto keeps past their resource:

- DynamoDB resource-based policies live in one per-account dict keyed by the table's (or stream's) ARN, which
  DeleteTable never cleared: a table created again under the name (the same ARN) had the deleted table's policy,
  with its grants to other accounts. AWS: the policy is attached to the table or stream
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html); a table
  without one answers GetResourcePolicy with PolicyNotFoundException
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetResourcePolicy.html). A deleted table's
  policies (its own and its streams') are dropped, and a created table starts with none.
- CloudWatch Logs metric filters live in one per-account list keyed by log group *name*: DeleteLogGroup left them,
  so a group created again under the name had the old group's filters, and PutMetricFilter on a group that does
  not exist stored one for whatever group is created later. AWS: DeleteLogGroup "permanently deletes the
  specified log group" (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html);
  PutMetricFilter on a missing group is ResourceNotFoundException
  (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html). A deleted
  group's filters are dropped, and a filter for a missing group is refused.
"""

from __future__ import annotations

import functools
from typing import Any


def install(service: str) -> None:
    """Patch moto's backend of `service` where a side table outlives its resource (DynamoDB, Logs); idempotent."""
    if service == "dynamodb":
        _dynamodb()
    elif service == "logs":
        _logs()


def _dynamodb() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend.delete_table, "_lambdaperm_fresh", False):
        return
    original_create = DynamoDBBackend.create_table
    original_delete = DynamoDBBackend.delete_table

    def drop_policies(backend: Any, table_arn: str) -> None:
        for arn in [a for a in backend.resource_policies if a == table_arn or a.startswith(f"{table_arn}/")]:
            del backend.resource_policies[arn]  # the table's and its streams'

    def create_table(self: Any, *args: Any, **kwargs: Any) -> Any:
        table = original_create(self, *args, **kwargs)
        drop_policies(self, table.table_arn)  # a new table: no policy of a deleted one of its name
        return table

    def delete_table(self: Any, name: str) -> Any:
        table = original_delete(self, name)
        drop_policies(self, table.table_arn)
        return table

    delete_table._lambdaperm_fresh = True  # type: ignore[attr-defined]
    DynamoDBBackend.create_table = create_table  # type: ignore[method-assign]
    DynamoDBBackend.delete_table = delete_table  # type: ignore[method-assign]


def _logs() -> None:
    from moto.logs.exceptions import ResourceNotFoundException
    from moto.logs.models import LogsBackend

    if getattr(LogsBackend.put_metric_filter, "_lambdaperm_fresh", False):
        return
    original_put = LogsBackend.put_metric_filter
    original_delete = LogsBackend.delete_log_group  # fresh_tags' (tags) when installed first: both run

    def put_metric_filter(
        self: Any, filter_name: str, filter_pattern: str, log_group_name: str, metric_transformations: Any
    ) -> None:
        if log_group_name not in self.groups:
            raise ResourceNotFoundException()  # "The specified log group does not exist."
        original_put(self, filter_name, filter_pattern, log_group_name, metric_transformations)

    @functools.wraps(original_delete)  # keeps fresh_tags' mark, so neither patch is applied twice
    def delete_log_group(self: Any, log_group_name: str) -> None:
        original_delete(self, log_group_name)
        filters = self.filters.metric_filters
        filters[:] = [f for f in filters if f.get("logGroupName") != log_group_name]

    put_metric_filter._lambdaperm_fresh = True  # type: ignore[attr-defined]
    LogsBackend.put_metric_filter = put_metric_filter  # type: ignore[method-assign]
    LogsBackend.delete_log_group = delete_log_group  # type: ignore[method-assign]
