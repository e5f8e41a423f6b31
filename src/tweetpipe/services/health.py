"""What `tweetpipe services status` reports about one service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    address: str
    healthy: bool
    owner: str | None  # "ours" (started by `up`), "external", or None (nothing there)
    pid: int | None = None
    detail: str = ""
    #: a Kafka broker's cluster: partitions whose in-sync replicas are fewer than their
    #: replicas (None: not asked, or the cluster did not answer)
    under_replicated: int | None = None

    @property
    def state(self) -> str:
        if self.owner == "ours":
            return "running" if self.healthy else "starting or unhealthy"
        if self.owner == "external":
            return "running (not started by tweetpipe)"
        return "stopped"
