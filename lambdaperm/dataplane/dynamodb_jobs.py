"""DynamoDB's import and export jobs (ImportTable, ExportTableToPointInTime) run inside the call's unit.

AWS runs both as jobs: the call answers at once with the job `IN_PROGRESS` and the client follows it with
DescribeImport / DescribeExport until it is COMPLETED or FAILED ("You can use DescribeImport to check the status of
the import", https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ImportTable.html;
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ExportTableToPointInTime.html).

The embedded backend runs each job in a `threading.Thread` of its own, started by the call: the job's table and
item writes (an import) and its S3 objects (an export) were made outside the data plane's execution lock, so they
were neither ordered against the other calls nor part of the call's journal entry, and on replay the job ran beside
the entries replayed after it (persistence review round 8). Here a job runs on the request's thread, inside the
call's unit (`run_here` replaces `Thread.start`): the job is done when the call's unit ends, its writes are the
unit's, and a replay of the entry does them again, in order. The call still answers the job as AWS does when it
starts it (`Started`: `IN_PROGRESS`, nothing processed yet); DescribeImport / DescribeExport then report it as it
ended (COMPLETED or FAILED) — the states a client polling for the job sees on AWS, in the same order.
"""

from __future__ import annotations

from typing import Any


def run_here(job: Any) -> None:
    """`Thread.start` of moto's TableImport / TableExport: the job's body, on the calling thread (the unit's)."""
    job.run()


class Started:
    """What ImportTable / ExportTableToPointInTime answer: the job as it starts (the backend keeps the job)."""

    def __init__(self, description: dict[str, Any]) -> None:
        self._description = description

    def response(self) -> dict[str, Any]:
        return dict(self._description)


def started(job: Any, status: str, counts: tuple[str, ...]) -> Started:
    """`job`'s description as it starts: `status` IN_PROGRESS, each of `counts` 0, no failure."""
    description: dict[str, Any] = job.response()
    description.update({status: "IN_PROGRESS", "FailureCode": None, "FailureMessage": None})
    description.update(dict.fromkeys(counts, 0))
    return Started(description)
