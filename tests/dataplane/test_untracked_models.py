"""moto keeps no list of every model instance it made once lambdaperm's data plane is loaded
(dataplane/untracked_models.py): an item, message or object nobody refers to any more is freed."""

from __future__ import annotations

import gc
import weakref

from lambdaperm.dataplane.untracked_models import stop_tracking_model_instances


def test_a_moto_model_instance_nobody_holds_is_freed() -> None:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.s3.models import FakeKey
    from moto.sqs.models import Message

    stop_tracking_model_instances()
    made = [
        Item(hash_key=None, range_key=None, attrs={"pk": {"S": "a"}, "v": {"S": "x" * 100}}),  # type: ignore[arg-type]
        Message("id-1", "body", 0),
        FakeKey("key", b"body", account_id="000000000000", region_name="us-east-1"),
    ]
    refs = [weakref.ref(m) for m in made]
    for cls in (Item, Message, FakeKey):
        assert all(i not in cls.instances_tracked for i in made)  # type: ignore[attr-defined]
    del made
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_installing_it_lets_go_of_the_instances_tracked_before() -> None:
    import moto.core.common_models as common_models
    from moto.sqs.models import Message

    import lambdaperm.dataplane.untracked_models as untracked

    new = common_models.BaseModel.__new__
    untracked._DONE = False
    try:
        Message.instances_tracked.append(Message("id-2", "body", 0))  # type: ignore[attr-defined]
        stop_tracking_model_instances()
        assert Message.instances_tracked == []  # type: ignore[attr-defined]
    finally:
        common_models.BaseModel.__new__ = new  # type: ignore[method-assign]
        untracked._DONE = True
