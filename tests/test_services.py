"""The test harness for real programs (tests/services.py) does what it says."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

from tests.services import (
    LaunchdayProcess,
    Nginx,
    RedisServer,
    Sentinel,
    free_port,
    rewrite_nginx_conf,
)
from tests.utils import EVENT, H, timeout


def _until(cond, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout(seconds)
    while not (value := cond()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def test_free_port_is_bindable_and_never_the_shared_redis() -> None:
    ports = {free_port() for _ in range(20)}
    assert 6379 not in ports and len(ports) > 1


def test_redis_refuses_the_shared_port(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        RedisServer(tmp_path, port=6379)


def test_redis_restart_keeps_the_aof(tmp_path: Path) -> None:
    r = RedisServer(tmp_path / "r").start()
    try:
        assert r.url == f"redis://127.0.0.1:{r.port}/0"
        assert r.command("SET", "k", "v1") == b"+OK\r\n"
        assert r.command("CONFIG", "GET", "appendfsync") == b"*2\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n"
        port = r.port
        r.restart()
        assert r.port == port
        assert r.command("GET", "k") == b"$2\r\nv1\r\n"
    finally:
        r.stop()


def test_redis_kill_is_sigkill_and_acked_writes_survive_it(tmp_path: Path) -> None:
    r = RedisServer(tmp_path / "r").start()
    try:
        assert r.command("RPUSH", "l", "a", "b", "c") == b":3\r\n"
        assert r.kill() == -9
        assert not r.running
        assert r.command("PING") is None
        r.start()  # same dir, same port: the AOF (fsynced on every write) is replayed
        assert r.command("LLEN", "l") == b":3\r\n"
    finally:
        r.stop()


def test_replica_and_sentinel_follow_a_failover(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "primary") as primary, \
            RedisServer(tmp_path / "replica", replicaof=("127.0.0.1", primary.port)) as replica:
        assert primary.command("SET", "k", "v") == b"+OK\r\n"
        _until(lambda: replica.command("GET", "k") == b"$1\r\nv\r\n", 10, "the replica to copy k")
        with Sentinel(tmp_path / "sentinel", primary.port) as sentinel:
            assert sentinel.url == f"redis+sentinel://127.0.0.1:{sentinel.port}/launchday/0"
            assert sentinel.master_port_now() == primary.port
            _until(lambda: b"slave" in (sentinel.command("SENTINEL", "replicas", "launchday") or b""),
                   20, "the sentinel to discover the replica")
            primary.kill()
            _until(lambda: sentinel.master_port_now() == replica.port, 30, "the failover")
            assert replica.command("SET", "k2", "v2") == b"+OK\r\n"  # promoted: writable


def test_launchday_process_serves_then_dies_on_kill(tmp_path: Path) -> None:
    p = LaunchdayProcess(tmp_path / "data").start()
    try:
        assert p.healthz() == 200
        with urlopen(p.url + "/healthz", timeout=5) as r:
            assert r.status == 200
        assert p.ws_url == p.url.replace("http", "ws", 1)
        assert p.kill() == -9
        assert p.healthz() is None
        p.start()  # same data dir, same port
        assert p.healthz() == 200
        assert p.terminate() == 0
    finally:
        p.kill()


def test_launchday_process_that_cannot_start_fails_with_its_log(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="launchday exited") as err:
        LaunchdayProcess(tmp_path / "data", extra_args=["--no-such-flag"]).start()
    assert "no-such-flag" in str(err.value)  # argparse's complaint, from the log


MINIMAL_CONF = """\
user www-data;
pid /run/nginx.pid;
events { worker_connections 64; }
http {
    access_log /var/log/nginx/access.log;
    upstream launchday {
        least_conn;
        server launchday1:8080 max_fails=2 fail_timeout=5s;
        server launchday2:8080 max_fails=2 fail_timeout=5s;
    }
    server {
        listen 80;
        location / { proxy_pass http://launchday; }
    }
}
"""


def test_rewrite_keeps_upstream_parameters_and_moves_paths(tmp_path: Path) -> None:
    out = rewrite_nginx_conf(MINIMAL_CONF, tmp_path, 18080, [1111, 2222, 3333])
    assert "launchday1" not in out and "/run/nginx.pid" not in out and "/var/log" not in out
    for port in (1111, 2222, 3333):
        assert f"server 127.0.0.1:{port} max_fails=2 fail_timeout=5s;" in out
    assert "listen 127.0.0.1:18080;" in out and "listen 80;" not in out
    assert f"pid {tmp_path}/nginx.pid;" in out
    assert "least_conn;" in out


def test_nginx_proxies_to_a_launchday_process(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(MINIMAL_CONF)
    with LaunchdayProcess(tmp_path / "data") as backend, \
            Nginx(conf, tmp_path / "nginx", upstream_ports=[backend.port]) as nginx:
        with urlopen(nginx.url + "/healthz", timeout=5) as r:
            assert r.status == 200
        assert nginx.port != backend.port


def test_start_without_waiting_then_wait_ready(tmp_path: Path) -> None:
    p = LaunchdayProcess(tmp_path / "data").start(wait=False)
    try:
        assert p.running
        p.wait_ready()
        assert p.healthz() == 200
    finally:
        p.kill()


def test_launchday_process_on_a_test_redis(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as redis, \
            LaunchdayProcess(tmp_path / "data", redis_url=redis.url) as p:
        assert "--redis" in p.argv() and redis.url in p.argv()
        assert p.healthz() == 200
        req = Request(p.url + "/api/events", data=json.dumps(EVENT).encode(), method="POST",
                      headers={**H, "Content-Type": "application/json"})
        with urlopen(req, timeout=10) as r:
            assert r.status == 201
        assert redis.command("DBSIZE") != b":0\r\n"  # the event is journaled in this Redis
