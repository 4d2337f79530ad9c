"""IAM: users, groups, roles, managed and inline policies, access keys, tags, boundaries, simulation.

https://docs.aws.amazon.com/IAM/latest/APIReference/
"""

from .operations import OPERATIONS

__all__ = ["OPERATIONS"]
