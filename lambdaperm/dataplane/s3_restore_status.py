"""An S3 restore completes inside the RestoreObject call that requested it, never inside a later read.

S3 sends `s3:ObjectRestore:Post` when a restore is requested and `s3:ObjectRestore:Completed` when it completes
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html).
moto 5.2.1 advances a key's restore status lazily (`ManagedState`, "immediate" progression): the status moves to
RESTORED the first time something reads it — HeadObject or GetObject building the `x-amz-restore` header — and
that transition sends the Completed notification. A read is not journaled (`moto_backend._changes_state`), so the
delivered event was lost at a `kill -9` (persistence review round 12). Here the status is read once at the end of
`FakeKey.restore`, inside the journaled RestoreObject: the restore completes, and its Completed event is sent,
under the call's unit, and a replay does the same. Later reads find it RESTORED and change nothing.
"""

from __future__ import annotations

from typing import Any

_INSTALLED: dict[str, bool] = {}


def install() -> None:
    """Replace moto's `FakeKey.restore` by one that settles the restore status it started (idempotent)."""
    if _INSTALLED.get("restore"):
        return
    from moto.s3.models import FakeKey

    requested = FakeKey.restore

    def restore(self: Any, days: int) -> None:
        requested(self, days)
        _ = self.status  # moto's transition to RESTORED (and its Completed notification) happens here

    FakeKey.restore = restore
    _INSTALLED["restore"] = True
