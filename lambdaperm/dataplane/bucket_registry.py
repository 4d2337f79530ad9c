"""Who holds each S3 bucket name, kept in lambdaperm's records so that it outlives the embedded data plane.

AWS: "Bucket names must be unique across all AWS accounts in all the AWS Regions within a partition"; a bucket
exists until its owner deletes it, and "after a bucket is deleted, the name becomes available for reuse"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html). Another account's CreateBucket of
a name in use is 409 `BucketAlreadyExists`; the owner's own is `BucketAlreadyOwnedByYou` or, in us-east-1, 200
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html#API_CreateBucket_Errors).

The embedded backend (moto) keeps buckets in memory: a restart loses them while lambdaperm's records — function
policies and identity policies naming `arn:aws:s3:::<name>` — survive, so another account creating the name
afterwards would inherit what was granted to the old owner's bucket. So each successful CreateBucket records
(name → owner, region, creation time) here, a successful DeleteBucket removes it, and a CreateBucket of a
recorded name by any account but its owner is refused before the backend sees it. A recorded bucket that the
backend lost can be created again by its owner only. Both halves run under the bucket name's exclusive hold
(gateway/bucket_names.py), so a create cannot slip between a delete's two writes.

Both writes are made with the call's journal entry when the data plane is durable (`unit_records`, persistence
review round 8): a CreateBucket or DeleteBucket a crash lost leaves the registry as the acknowledged calls did.

The record is the name's owner, not the bucket: if the data plane becomes durable (the buckets themselves
survive), it stays true and merely stops being the only witness.
"""

from __future__ import annotations

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.state.records import Records

from . import unit_records
from .moto_state import bucket_identity

NAMESPACE = "s3.bucket"  # account "", key the bucket name -> {Bucket, Owner, Region, Created}


def check_create(records: Records, bucket: str, account: str) -> None:
    """Refuse `account`'s CreateBucket of a name another account holds (whether the backend still has the
    bucket or lost it in a restart), as S3 does: 409 BucketAlreadyExists."""
    entry = records.get(NAMESPACE, "", bucket)
    if entry is not None and entry.get("Owner") != account:
        raise ServiceError(
            "BucketAlreadyExists",
            "The requested bucket name is not available. The bucket namespace is shared by all users of the "
            "system. Please select a different name and try again.",
            409,
            fields={"BucketName": bucket},
        )


def created(records: Records, bucket: str) -> None:
    """A CreateBucket succeeded: record the bucket the backend now has under that name (its owner's create of
    a bucket it already had rewrites the same record)."""
    found = bucket_identity(bucket)
    if found is not None:  # with the call's journal entry (dataplane/unit_records.py: lost with it in a crash)
        unit_records.put(
            records,
            NAMESPACE,
            "",
            bucket,
            {"Bucket": bucket, "Owner": found.owner, "Region": found.region, "Created": found.created},
        )


def deleted(records: Records, bucket: str, owner: str) -> None:
    """The backend deleted `owner`'s bucket of that name: the name is free again. A record naming another owner
    is left as it is (the name is its owner's to give up, never another account's)."""
    unit_records.delete(records, NAMESPACE, "", bucket, where={"Owner": owner})  # with the call's journal entry
