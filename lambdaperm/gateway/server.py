"""The server's parts, wired once: state, authorizer, services, data plane, trail."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdaperm.authz import Authorizer
from lambdaperm.dataplane import MotoBackend, Upstream, journal
from lambdaperm.dataplane.journal import Journal
from lambdaperm.services import cloudtrail, iam, lambda_, sts
from lambdaperm.services.context import Handler
from lambdaperm.services.policy_sources import ServicePolicies
from lambdaperm.state import Database, Records
from lambdaperm.trail import TrailStore

from .implicit import ImplicitAccess
from .lambda_env import LambdaEnv
from .policy_source import CompositePolicies
from .state_disk import StateDisk
from .trail_writer import TrailWriter

# our own control plane; every other supported service goes to the data plane
SERVICES: dict[str, dict[str, Handler]] = {
    "iam": iam.OPERATIONS, "sts": sts.OPERATIONS, "cloudtrail": cloudtrail.OPERATIONS, "lambda": lambda_.OPERATIONS,
}
PRECHECKS = {"lambda": lambda_.PRECHECKS}
DATA_PLANE = frozenset({"dynamodb", "s3", "sqs", "sns", "logs", "ec2"})


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 4566
    state_dir: Path | None = Path(".lambdaperm")  # None: in memory
    upstream: str | None = None


class Server:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.db = Database(config.state_dir)
        self.records = Records(self.db)
        # a write is refused (503) before it runs when the state filesystem is down to its reserve (state_disk.py)
        self.state_disk = None if config.state_dir is None or self.db.ephemeral else StateDisk(config.state_dir)
        self.policies = ServicePolicies(self.records)
        self.trail_store = TrailStore(self.db.connection, owns_connections=False)
        # the leaders' commits use one connection of their own (one leader at a time: trail_writer)
        self._trail_connection = commit_connection = self.db.connect()
        # with a state directory, the embedded data plane is journaled and restored at start-up (Durable data
        # plane, docs/architecture.md); upstream, the data lives upstream; in memory, nothing outlives the process
        self.journal = Journal(self.db.connect) if not self.db.ephemeral and config.upstream is None else None
        self.trail = TrailWriter(self.trail_store, TrailStore(lambda: commit_connection, owns_connections=False),
                                 journal=self.journal)
        if self.journal is not None:
            self.journal.committer = self.trail.sync
        journal.activate(self.journal)
        self.dataplane: MotoBackend | Upstream = (Upstream(config.upstream) if config.upstream
                                                  else MotoBackend(self.journal))
        self.authorizer = Authorizer(CompositePolicies(self.policies, embedded_data_plane=config.upstream is None))
        self.services = SERVICES
        self.lambda_env = LambdaEnv(config.state_dir, f"http://{config.host}:{config.port}")
        self.lambda_env.implicit = ImplicitAccess(self)  # code from S3 is read as the caller
        self.poller: Any = None
        self._snapshotter: threading.Thread | None = None
        self._closing = threading.Event()
        self._wire_deliveries()

    def _wire_deliveries(self) -> None:
        """Push deliveries: moto's own (S3 → SQS/SNS, SNS → SQS) ask the destination's policy first; S3 → Lambda
        targets live and die with their bucket (those of buckets gone since the last run are dropped)."""
        from lambdaperm.dataplane import deliveries

        from . import events

        if self.config.upstream is None:
            guard = events.delivery_guard(self)
            running = self.journal

            def forget(bucket: str, owner: str, created: str) -> None:
                if running is None or not running.replaying:  # a replayed delete: the records are already current
                    events.forget_bucket(self, bucket, owner, created)

            # a delivery's decision is taken once, live, and read back on replay (dataplane/journal.py)
            deliveries.install(lambda *args: journal.taped(lambda: guard(*args)), forget)
        if self.journal is not None and self.config.state_dir is not None:
            from lambdaperm.dataplane import replay

            assert isinstance(self.dataplane, MotoBackend)
            self.restored = replay.restore(self.dataplane, self.journal, self.config.state_dir)  # before answering
        events.prune_bucket_notifications(self)  # after the restore: the restored buckets keep their targets

    def start_pollers(self) -> None:
        from lambdaperm.services.lambda_ import async_queue_store

        from .events import SqsPoller

        # Event invocations acknowledged before the last stop, run again (persistence round 12)
        async_queue_store.resume(self.records, self.trail, self.lambda_env)
        self.poller = SqsPoller(self)
        self.poller.start()
        if self.journal is not None:
            self._snapshotter = threading.Thread(target=self._snapshots, name="lambdaperm-snapshots", daemon=True)
            self._snapshotter.start()

    def _snapshots(self) -> None:
        """A snapshot whenever the journal since the last one passes its threshold (dataplane/snapshots.py)."""
        assert self.journal is not None
        while not self._closing.is_set():
            if self.journal.snapshot_due.wait(1.0) and not self._closing.is_set():
                self.journal.snapshot_due.clear()
                self.snapshot()

    def snapshot(self) -> None:
        """Snapshot the data plane now and drop the journal it covers (best effort: the journal stays on error)."""
        from lambdaperm.dataplane import snapshots

        if self.journal is None or self.config.state_dir is None:
            return
        try:
            seq, size = snapshots.take(self.journal, self.config.state_dir)
            logging.getLogger("lambdaperm.snapshots").info("snapshot through entry %d: %d bytes", seq, size)
        except Exception:
            logging.getLogger("lambdaperm.snapshots").exception("the data-plane snapshot failed; the journal is kept")

    def close(self) -> None:
        self._closing.set()
        if self.journal is not None:
            self.journal.snapshot_due.set()  # wakes the snapshot thread now, which sees `_closing` and returns
        if self.poller is not None:
            self.poller.stop()
        if self._snapshotter is not None:
            self._snapshotter.join(timeout=60)
        self.lambda_env.close()
        if self.journal is not None and (self.journal.since_snapshot or self.journal.count()):
            self.snapshot()  # a clean shutdown: the next start-up replays nothing
        self.trail.close()
        if self.journal is not None:
            journal.activate(None)
            self.journal.close()
        self._trail_connection.close()
        self.db.close()
