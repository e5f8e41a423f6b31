"""Network probes shared by the Kafka wrapper and the services (no dependency of either)."""

from __future__ import annotations

import socket


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Does something accept TCP connections at host:port?"""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
