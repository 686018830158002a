"""docker-compose.yml and deploy/nginx.conf name the same processes (no YAML
parser in the project's dependencies: the checks read the text)."""

from __future__ import annotations

import re

from tests.utils import ROOT

COMPOSE = (ROOT / "docker-compose.yml").read_text()
NGINX = (ROOT / "deploy" / "nginx.conf").read_text()
SERVE = ('["launchday", "serve", "--host", "0.0.0.0", "--port", "8080", "--data", "/data",\n'
         '            "--redis", "redis://redis:6379/0"]')


def test_nginx_upstreams_are_the_compose_services() -> None:
    upstreams = re.findall(r"(?m)^\s*server\s+(\w+):(\d+)\s", NGINX)
    services = re.findall(r"(?m)^  (launchday\d+):\n    <<: \*launchday$", COMPOSE)
    assert [name for name, _ in upstreams] == services == ["launchday1", "launchday2", "launchday3"]
    assert {port for _, port in upstreams} == {"8080"}


def test_compose_runs_the_repo_configs_and_the_documented_command() -> None:
    assert SERVE in COMPOSE
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in COMPOSE
    assert "./deploy/redis.conf:/usr/local/etc/redis/redis.conf:ro" in COMPOSE
    assert re.search(r'command: \["redis-server", "/usr/local/etc/redis/redis.conf"\]', COMPOSE)


def test_the_monitoring_profile_runs_prometheus_on_the_repo_config_locally_only() -> None:
    """Catches a Prometheus that starts without the profile, reads another
    configuration than deploy/prometheus/, or publishes 9090 beyond the host."""
    block = re.search(r"(?ms)^  prometheus:\n(.*?)(?=^\S|^  \w)", COMPOSE)
    assert block is not None, "no prometheus service in docker-compose.yml"
    service = block.group(1)
    assert 'profiles: ["monitoring"]' in service
    assert "image: prom/prometheus:" in service
    assert "- ./deploy/prometheus:/etc/prometheus:ro" in service
    assert '"--config.file=/etc/prometheus/prometheus.yml"' in service
    assert re.findall(r'(?m)^      - "([\d.:]+)"$', service) == ["127.0.0.1:9090:9090"]
    assert (ROOT / "deploy" / "prometheus" / "prometheus.yml").is_file()
    assert re.search(r"(?m)^  prometheus-data:$", COMPOSE)


def test_compose_publishes_https_and_the_redirect_and_trusts_only_its_network() -> None:
    """Catches: nginx published on a plain-HTTP port only, the certificate not mounted where
    deploy/nginx.conf reads it, or the processes trusting forwarded headers from a network that is
    not the one nginx is on (no Secure cookie; or anyone's forged headers believed)."""
    ports = re.findall(r'(?m)^      - "(\d+):(\d+)"$', COMPOSE)
    assert sorted(ports) == [("443", "443"), ("80", "80")]
    assert "./deploy/certs:/etc/nginx/certs:ro" in COMPOSE
    assert "./deploy/acme:/var/www/acme:ro" in COMPOSE
    assert re.search(r"ssl_certificate\s+/etc/nginx/certs/", NGINX) and "root /var/www/acme;" in NGINX
    (trusted,) = re.findall(r"LAUNCHDAY_TRUSTED_PROXIES: \$\{LAUNCHDAY_TRUSTED_PROXIES:-([^}]+)\}", COMPOSE)
    (subnet,) = re.findall(r"(?m)^        - subnet: (\S+)$", COMPOSE)
    assert trusted == subnet
