"""deploy/prometheus/ checked by the real promtool (Debian's `prometheus`
package, installed by scripts/setup.sh): the rules parse, the scrape
configuration is valid, and every alert's unit tests in tests.yml pass
(firing and not firing)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.utils import ROOT

DIR = ROOT / "deploy" / "prometheus"


def _promtool(*args: str) -> str:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail("promtool not found: run `make setup` (it installs Debian's prometheus package, "
                    "without starting its service)")
    done = subprocess.run([exe, *args], cwd=DIR, capture_output=True, text=True, timeout=60)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{out}"
    return out


def test_alert_rules_parse() -> None:
    """Catches a rule file Prometheus would refuse to load (bad PromQL, bad YAML)."""
    assert "SUCCESS: 10 rules found" in _promtool("check", "rules", "alerts.yml")


def test_scrape_config_is_valid_and_loads_the_rules() -> None:
    """Catches a scrape configuration Prometheus refuses, or a rule file path
    it cannot resolve (paths are relative to the configuration file)."""
    out = _promtool("check", "config", "prometheus.yml")
    assert "SUCCESS: 1 rule files found" in out


def test_every_alert_fires_when_it_should_and_only_then() -> None:
    """Catches a rule whose expression, threshold, `for` or annotations drift
    from its unit tests (deploy/prometheus/tests.yml)."""
    assert "SUCCESS" in _promtool("test", "rules", "tests.yml")


def test_every_alert_has_unit_tests_and_the_scrape_names_the_compose_processes() -> None:
    """Catches an alert added without a unit test, or a process of
    docker-compose.yml that Prometheus does not scrape."""
    alerts = set(re.findall(r"(?m)^\s+- alert: (\w+)$", (DIR / "alerts.yml").read_text()))
    tested = set(re.findall(r"(?m)^\s+alertname: (\w+)$", (DIR / "tests.yml").read_text()))
    assert len(alerts) == 10 and alerts == tested
    compose = (ROOT / "docker-compose.yml").read_text()
    services = re.findall(r"(?m)^  (launchday\d+):\n    <<: \*launchday$", compose)
    config = (DIR / "prometheus.yml").read_text()
    targets = ", ".join(f'"{name}:8080"' for name in services)
    assert len(services) == 3 and f"targets: [{targets}]" in config

