"""deploy/redis.conf, run by a real redis-server, says what docker-compose.yml relies on."""

from __future__ import annotations

from pathlib import Path

from tests.services import RedisServer
from tests.utils import ROOT

CONF = ROOT / "deploy" / "redis.conf"


def _config(r: RedisServer, name: str) -> bytes:
    reply = r.command("CONFIG", "GET", name)
    assert reply is not None, f"redis did not answer CONFIG GET {name}"
    return reply.split(b"\r\n")[4]  # *2 / $len / name / $len / value


def test_the_compose_redis_config_is_durable(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis", conf=CONF) as r:
        # Only port, bind and dir come from the command line; these are the file's.
        assert _config(r, "appendfsync") == b"always"
        assert _config(r, "appendonly") == b"yes"
        assert _config(r, "save") == b""
        assert _config(r, "maxmemory-policy") == b"noeviction"
        assert r.command("SET", "acked", "1") == b"+OK\r\n"
        r.kill()  # a crash right after the ack
        r.start()
        assert r.command("GET", "acked") == b"$1\r\n1\r\n"
        assert (tmp_path / "redis" / "appendonlydir").is_dir()
