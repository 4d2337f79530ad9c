"""A resource's tags die with it: the embedded backend's tag tables are cleared where moto kept them past the
resource (persistence review round 4).

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
