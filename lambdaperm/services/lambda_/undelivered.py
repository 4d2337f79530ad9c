"""Lambda settings whose later work lambdaperm does not perform: refused with 501 NotImplemented naming them.

- `DeadLetterConfig.TargetArn`: "Lambda retries failed asynchronous invocations twice, then sends the event to the
  dead-letter queue (SQS SendMessage) or topic (SNS Publish)" with the execution role
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq). lambdaperm runs
  an Event invocation once and sends nothing: the target was stored and never written to (implicit accesses review
  round 9). An empty TargetArn (no target) is what lambdaperm does and is accepted.
- An event source mapping on a DynamoDB stream or a Kinesis stream: Lambda polls the stream with the execution role
  and invokes the function with each batch (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html,
  https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html). lambdaperm polls SQS queues only: the mapping was
  created, reported Enabled, and never read its stream (review round 9).

Both are refused after the checks AWS makes with the role (so a role that may not write the target or read the
stream is still InvalidParameterValueException, as in AWS), and before anything is stored.
"""

from __future__ import annotations

from lambdaperm.protocol.errors import ServiceError


def _not_performed(message: str) -> ServiceError:
    return ServiceError("NotImplemented", message, 501, sender_fault=False, fields={"Type": "Service"})


def refuse_dead_letter_target(target: str | None) -> None:
    """501 for a dead-letter target: lambdaperm retries no asynchronous invocation and delivers no failed event."""
    if target:
        raise _not_performed(
            f"lambdaperm does not deliver failed asynchronous invocations: the function setting "
            f"DeadLetterConfig (TargetArn {target}) cannot be applied"
        )


def refuse_unpolled_source(source: str) -> None:
    """501 for an event source lambdaperm does not poll: every source that is not an SQS queue."""
    parts = source.split(":")
    if len(parts) < 6 or parts[2] != "sqs":
        raise _not_performed(f"lambdaperm polls SQS queues only: an event source mapping on {source} cannot be applied")
