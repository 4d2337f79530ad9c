"""Authorization of every call: which policies apply (sources), the request context keys, enforce()."""

from .enforce import Authorizer, Denied, PolicySource
from .keys import request_context

__all__ = ["Authorizer", "Denied", "PolicySource", "request_context"]
