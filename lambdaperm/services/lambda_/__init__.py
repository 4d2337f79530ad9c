"""Lambda: functions, versions, aliases, both permission sides, invocation, URLs, event source mappings.

https://docs.aws.amazon.com/lambda/latest/api/
"""

from .operations import OPERATIONS, PRECHECKS

__all__ = ["OPERATIONS", "PRECHECKS"]
