"""Durable state in SQLite: one file under the state directory, WAL, one transaction per write."""

from .db import Database
from .records import Derived, Records

__all__ = ["Database", "Derived", "Records"]
