"""The server's parts, wired once: state, authorizer, services, data plane, trail."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdaperm.authz import Authorizer
from lambdaperm.dataplane import MotoBackend, Upstream
from lambdaperm.services import cloudtrail, iam, lambda_, sts
from lambdaperm.services.context import Handler
from lambdaperm.services.policy_sources import ServicePolicies
from lambdaperm.state import Database, Records
from lambdaperm.trail import TrailStore

from .implicit import ImplicitAccess
from .lambda_env import LambdaEnv
from .policy_source import CompositePolicies
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
        self.policies = ServicePolicies(self.records)
        self.trail_store = TrailStore(self.db.connection, owns_connections=False)
        # the leaders' commits use one connection of their own (one leader at a time: trail_writer)
        self._trail_connection = commit_connection = self.db.connect()
        self.trail = TrailWriter(self.trail_store, TrailStore(lambda: commit_connection, owns_connections=False))
        self.dataplane: MotoBackend | Upstream = Upstream(config.upstream) if config.upstream else MotoBackend()
        self.authorizer = Authorizer(CompositePolicies(self.policies, embedded_data_plane=config.upstream is None))
        self.services = SERVICES
        self.lambda_env = LambdaEnv(config.state_dir, f"http://{config.host}:{config.port}")
        self.lambda_env.implicit = ImplicitAccess(self)  # code from S3 is read as the caller
        self.poller: Any = None
        self._wire_deliveries()

    def _wire_deliveries(self) -> None:
        """Push deliveries: moto's own (S3 → SQS/SNS, SNS → SQS) ask the destination's policy first; S3 → Lambda
        targets live and die with their bucket (those of buckets gone since the last run are dropped)."""
        from lambdaperm.dataplane import deliveries

        from . import events

        if self.config.upstream is None:
            deliveries.install(events.delivery_guard(self),
                               lambda bucket, owner, created: events.forget_bucket(self, bucket, owner, created))
        events.prune_bucket_notifications(self)

    def start_pollers(self) -> None:
        from .events import SqsPoller

        self.poller = SqsPoller(self)
        self.poller.start()

    def close(self) -> None:
        if self.poller is not None:
            self.poller.stop()
        self.lambda_env.close()
        self.trail.close()
        self._trail_connection.close()
        self.db.close()
