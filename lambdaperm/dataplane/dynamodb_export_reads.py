"""DynamoDB ListExports and DescribeExport answered as DynamoDB does (found by the fuzz campaign, docs/reliability.md).

- ListExports: `TableArn` is optional; without it DynamoDB lists the exports of the account (in the region)
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListExports.html, "TableArn … Required: No").
  moto 5.2.1 read `body["TableArn"]` (KeyError: 500 InternalFailure).
- DescribeExport of an export that does not exist: 400 ExportNotFoundException "The specified export was not found"
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeExport.html, Errors). moto looked the
  ARN up in a dict (KeyError: 500).
"""

from __future__ import annotations

from typing import Any

_INSTALLED: dict[str, bool] = {}


def install() -> None:
    """Replace moto's ListExports handler and DescribeExport lookup by ones that answer as DynamoDB (idempotent)."""
    if _INSTALLED.get("reads"):
        return
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    listed = DynamoHandler.list_exports

    def list_exports(self: Any) -> Any:
        if self.body.get("TableArn") is not None:
            return listed(self)
        from moto.core.responses import ActionResult

        summaries = [
            {"ExportArn": e.arn, "ExportStatus": e.status, "ExportType": e.export_type}
            for e in self.dynamodb_backend.table_exports.values()
        ]
        return ActionResult({"ExportSummaries": summaries})

    def describe_export(self: Any, export_arn: str) -> Any:
        export = self.table_exports.get(export_arn)
        if export is None:
            raise JsonRESTError(ERROR_TYPE_PREFIX + "ExportNotFoundException", "The specified export was not found")
        return export

    DynamoHandler.list_exports = list_exports  # type: ignore[method-assign]
    DynamoDBBackend.describe_export = describe_export  # type: ignore[method-assign]
    _INSTALLED["reads"] = True
