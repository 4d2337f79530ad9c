"""A resource's tags die with it: the embedded backend's tag tables are cleared where moto kept them past the
resource (persistence review rounds 4 and 5).

moto keeps the tags of S3 objects and of CloudWatch Logs log groups in a per-backend `TaggingService`, keyed by an
ARN that a later resource can have again, and never drops an entry when the resource goes:

- S3 objects are keyed `bucket/key/version`, the version being "null" for every object of an unversioned (or
  suspended) bucket. DeleteObject leaves the entry; CopyObject *adds* the source's tags to it. So a copy onto a
  deleted or overwritten key carried the old object's tags. AWS: the copy's tags are the source's under the
  default `x-amz-tagging-directive: COPY`, the request's under REPLACE
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html); an object's tags are part of that
  object (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html). Every key moto writes now
  starts with no tags (`put_object`: the callers that tag — PutObject, CompleteMultipartUpload, CopyObject's
  REPLACE — tag after it), and a copy then gets exactly its source's tags as they were before the write (an
  in-place copy of an unversioned key shares the source's entry).
- Log groups are keyed by the group's ARN. DeleteLogGroup left the entry and CreateLogGroup merged its `tags`
  into it, so a group created again under a deleted one's name carried the deleted one's tags; moto's TagResource
  also stores tags for a group that does not exist yet. AWS: DeleteLogGroup "permanently deletes the specified
  log group"; a group has the tags it was created with
  (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html,
  https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html). A deleted group's
  entry is removed, and a group created (by CreateLogGroup, or by moto's own `ensure_log_group`) starts with the
  tags of its creation only.

Persistence review round 5 found the same table keeping two more kinds of tags past their resource:

- S3 bucket tags, keyed `arn:aws:s3:::<name>` in the owner's account: DeleteBucket left them, so the owner's
  bucket created again under the name carried them (GetBucketTagging showed them). No decision reads them while
  every bucket's ABAC is Disabled (`dataplane/tags.py`), but with ABAC they are the bucket's `aws:ResourceTag`.
  AWS: a bucket has the tags put on it and no other; without any, GetBucketTagging is NoSuchTagSet
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html). A deleted bucket's tags are
  dropped, and a bucket created starts untagged. (Another account's bucket of the same name never saw them: each
  account has its own table.)
- CloudWatch Logs destinations, keyed by the destination's ARN: DeleteDestination left the entry and PutDestination
  merged its `tags` into it (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html).
  A deleted destination's tags are dropped, and a destination created has its creation's tags only.

`aws:ResourceTag` and `s3:ExistingObjectTag` are read from these tables (`dataplane/tags.py`), so a stale entry
was a grant (or a guardrail's escape) nobody gave the new resource.
"""

from __future__ import annotations

from typing import Any


def install(service: str) -> None:
    """Patch moto's backend of `service` where it keeps tags past their resource (S3, Logs); once, idempotent."""
    if service == "s3":
        _s3()
    elif service == "logs":
        _logs()


def _s3() -> None:
    from moto.s3.models import S3Backend

    if getattr(S3Backend.put_object, "_lambdaperm_fresh_tags", False):
        return
    original_put = S3Backend.put_object
    original_copy = S3Backend.copy_object

    def put_object(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = original_put(self, *args, **kwargs)
        self.tagger.delete_all_tags_for_resource(key.arn)  # a new object: no tag of the one it replaces
        return key

    def copy_object(
        self: Any, src_key: Any, dest_bucket_name: str, dest_key_name: str, *args: Any, **kwargs: Any
    ) -> Any:
        source_tags = self.tagger.list_tags_for_resource(src_key.arn)["Tags"]  # read before the write
        result = original_copy(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs)
        new_key = self.get_bucket(dest_bucket_name).keys[dest_key_name]
        self.tagger.delete_all_tags_for_resource(new_key.arn)
        self.tagger.tag_resource(new_key.arn, source_tags)  # COPY: the source's; REPLACE re-tags it afterwards
        return result

    put_object._lambdaperm_fresh_tags = True  # type: ignore[attr-defined]
    S3Backend.put_object = put_object  # type: ignore[method-assign]
    S3Backend.copy_object = copy_object  # type: ignore[method-assign]
    _s3_buckets(S3Backend)


def _s3_buckets(backend: Any) -> None:
    """A bucket's tags die with it (round 5): dropped by DeleteBucket, none on a bucket created."""
    original_create = backend.create_bucket
    original_delete = backend.delete_bucket

    def create_bucket(self: Any, *args: Any, **kwargs: Any) -> Any:
        bucket = original_create(self, *args, **kwargs)
        self.tagger.delete_all_tags_for_resource(bucket.arn)  # a new bucket: no tag of a deleted one of its name
        return bucket

    def delete_bucket(self: Any, bucket_name: str) -> Any:
        deleted = original_delete(self, bucket_name)
        if deleted is not None:  # None: not empty, not deleted (BucketNotEmpty)
            self.tagger.delete_all_tags_for_resource(deleted.arn)
        return deleted

    backend.create_bucket = create_bucket
    backend.delete_bucket = delete_bucket


def _logs() -> None:
    from moto.logs.models import LogsBackend

    if getattr(LogsBackend.delete_log_group, "_lambdaperm_fresh_tags", False):
        return
    original_create = LogsBackend.create_log_group
    original_ensure = LogsBackend.ensure_log_group
    original_delete = LogsBackend.delete_log_group

    def create_log_group(self: Any, log_group_name: str, tags: Any, **kwargs: Any) -> Any:
        group = original_create(self, log_group_name, tags, **kwargs)
        self.tagger.delete_all_tags_for_resource(group.arn)
        self.tag_resource(group.arn, tags)  # the creation's tags, and no other
        return group

    def ensure_log_group(self: Any, log_group_name: str) -> None:
        existed = log_group_name in self.groups
        original_ensure(self, log_group_name)
        if not existed:
            self.tagger.delete_all_tags_for_resource(self.groups[log_group_name].arn)

    def delete_log_group(self: Any, log_group_name: str) -> None:
        group = self.groups.get(log_group_name)
        original_delete(self, log_group_name)
        if group is not None:
            self.tagger.delete_all_tags_for_resource(group.arn)

    delete_log_group._lambdaperm_fresh_tags = True  # type: ignore[attr-defined]
    LogsBackend.create_log_group = create_log_group  # type: ignore[method-assign]
    LogsBackend.ensure_log_group = ensure_log_group  # type: ignore[method-assign]
    LogsBackend.delete_log_group = delete_log_group  # type: ignore[method-assign]
    _logs_destinations(LogsBackend)


def _logs_destinations(backend: Any) -> None:
    """A destination's tags die with it (round 5): dropped by DeleteDestination; a destination PutDestination
    creates has the request's tags only (an update of an existing one leaves its tags, as moto does)."""
    original_put = backend.put_destination
    original_delete = backend.delete_destination

    def put_destination(self: Any, destination_name: str, role_arn: str, target_arn: str, tags: Any) -> Any:
        existed = any(d.destination_name == destination_name for d in self.destinations.values())
        destination = original_put(self, destination_name, role_arn, target_arn, tags)
        if not existed:
            self.tagger.delete_all_tags_for_resource(destination.arn)
            self.tag_resource(destination.arn, tags)
        return destination

    def delete_destination(self: Any, destination_name: str) -> None:
        destination = self.get_destination(destination_name)
        original_delete(self, destination_name)
        self.tagger.delete_all_tags_for_resource(destination.arn)

    backend.put_destination = put_destination
    backend.delete_destination = delete_destination
