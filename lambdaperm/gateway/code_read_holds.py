"""Lambda's read of a function's code from S3 holds the object from its decision to the read.

CreateFunction and UpdateFunctionCode with `S3Bucket`/`S3Key` read the archive with the caller's credentials (a
forward access session, https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html):
the read is the caller's GetObject, decided on the tags of the object it reads (`s3:ExistingObjectTag`,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html). S3 is strongly consistent
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel), so the archive read must be
the object the decision read the tags of: the old archive before an overwrite, or the denial of the new one.
Without a hold, an overwrite between the decision and the read put content nobody authorized into the caller's
function, which GetFunction then let the caller download (races review round 4).

So the read holds the bucket's name and the object exactly as an S3 GetObject through the pipeline does
(`bucket_names`, then `object_holds`, shared, in that order): writes of the object wait for the read, and a
write in progress is over before the read is decided.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import bucket_names, object_holds


@contextmanager
def held_read(bucket: str, key: str) -> Iterator[None]:
    """Hold `bucket`'s name and the object `key` as a GetObject does, for the decision and the read."""
    params = {"Bucket": bucket, "Key": key}
    with bucket_names.held("s3", "GetObject", params), object_holds.held("s3", "GetObject", params):
        yield
