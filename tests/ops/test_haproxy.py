"""The cluster's HAProxy configuration: valid for Debian's haproxy, every server health-checked."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ops.haproxy import Pool, main, render

POOLS = [
    Pool("gateway", 18000, "/healthz", (18001, 18002)),
    Pool("rasa", 15005, "/webhooks/gateway/", (15011, 15012)),
]


def test_each_pool_balances_its_servers_with_health_checks() -> None:
    text = render(POOLS, 18404)
    assert "bind 127.0.0.1:18000" in text and "bind 127.0.0.1:15005" in text
    assert "server gateway1 127.0.0.1:18001 check" in text and "server rasa2 127.0.0.1:15012 check" in text
    assert "option httpchk GET /webhooks/gateway/" in text
    assert "balance leastconn" in text
    assert "option forwardfor" in text  # per-address rate limits see the customer, not the balancer
    assert "timeout tunnel" in text  # WebSockets stay open
    assert "0.0.0.0" not in text and "bind *" not in text  # loopback only


@pytest.mark.skipif(
    shutil.which("haproxy") is None, reason="haproxy not installed (scripts/system_packages.sh)"
)
def test_haproxy_accepts_the_written_file(tmp_path: Path) -> None:
    out = tmp_path / "haproxy.cfg"
    assert (
        main([str(out), "--health", "18404", "--pool", "gateway", "18000", "/healthz", "18001", "18002"]) == 0
    )
    check = subprocess.run(["haproxy", "-c", "-f", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
