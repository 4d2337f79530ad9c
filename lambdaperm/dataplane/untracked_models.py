"""moto keeps every model instance it ever creates, for ever: `BaseModel.__new__` appends each one to its class's
`instances_tracked` list (moto's server dashboard lists them; `S3Backend.reset` disposes the keys in it). Nothing
removes an instance when the resource goes, so every DynamoDB item version written (each PutItem's item, and the
copies an update or a conditional write makes), every SQS message sent, every CloudWatch Logs event, every S3
object version replaced or deleted (its metadata: moto's key store closes the body) and every object a snapshot's
unpickling made stayed in the server's memory. Under the load campaign's bounded working set (docs/reliability.md
§4) this was the server's steady RSS growth; 100 overwrites of a 300 KB item kept ~30 MiB.

AWS keeps none of it: an overwritten item or object, a deleted message, are gone
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html "replaces the old item",
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html). Nothing in lambdaperm reads
`instances_tracked`, and lambdaperm neither serves moto's dashboard nor calls `reset`: instances are created
without being tracked, and what was tracked before the install is let go.
"""

from __future__ import annotations

from typing import Any

_DONE = False


def stop_tracking_model_instances() -> None:
    """Make moto's `BaseModel` keep no list of its instances (idempotent)."""
    global _DONE
    if _DONE:
        return
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import reset_model_data

    def untracked_new(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
        instance: BaseModel = super(BaseModel, cls).__new__(cls)
        return instance

    BaseModel.__new__ = staticmethod(untracked_new)  # type: ignore[method-assign]
    reset_model_data()  # the classes imported so far: their lists of instances created before now
    _DONE = True
