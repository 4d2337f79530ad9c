"""CloudTrail's API: LookupEvents over the records of every call this endpoint served."""

from __future__ import annotations

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.trail import LookupEventsError

from .context import Handler, Output, Params, RequestContext


def lookup_events(ctx: RequestContext, p: Params) -> Output:
    try:
        out: Output = ctx.trail.lookup_events(
            account=ctx.account, region=ctx.region, lookup_attributes=p.get("LookupAttributes"),
            start_time=p.get("StartTime"), end_time=p.get("EndTime"), event_category=p.get("EventCategory"),
            max_results=p.get("MaxResults"), next_token=p.get("NextToken"), now=ctx.now,
        )
    except LookupEventsError as err:
        raise ServiceError(err.code, err.message, err.status) from None
    return out


OPERATIONS: dict[str, Handler] = {"LookupEvents": lookup_events}
