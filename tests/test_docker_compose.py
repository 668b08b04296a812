"""docker-compose.yml describes the production-like stack and parses (no Docker engine here)."""

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
SECRETS = {
    "POSTGRES_PASSWORD": "pw",
    "PUBLIC_BASE_URL": "https://shop.example.test",
    "SECRET_KEY": "sk",
    "ADMIN_TOKEN": "at",
    "EVENT_KEY": "ek",
    "PAYLOAD_ENCRYPTION_KEY": "pk",
}


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (`make test` installs it where it can)")
    return subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "config"],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    """The stack as docker-compose renders it with every secret set (rendered once: each run of
    docker-compose costs most of a second of CPU)."""
    result = compose_config(SECRETS)
    assert result.returncode == 0, result.stderr
    rendered: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    return rendered


def test_compose_file_parses_with_every_service_and_health_check(services: dict[str, Any]) -> None:
    assert set(services) == {"postgresql", "temporal", "temporal-ui", "migrate", "api", "worker"}
    for name in ("postgresql", "temporal", "api", "worker"):
        assert "healthcheck" in services[name], name
    assert services["api"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert services["worker"]["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_compose_refuses_to_start_without_a_secret() -> None:
    result = compose_config({k: v for k, v in SECRETS.items() if k != "SECRET_KEY"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_every_use_of_each_secret_is_mandatory(secret: str) -> None:
    """Compose refuses a `${NAME:?message}` left unset (the test above): each secret is written
    that way wherever it is used, with no default to fall back on."""
    uses = re.findall(r"\$\{" + secret + r"\b([^}]*)\}", COMPOSE_FILE.read_text())
    assert uses, f"{secret} is not used"
    assert all(use.startswith(":?") for use in uses), (secret, uses)


def test_temporal_is_published_on_the_loopback_address_only(services: dict[str, Any]) -> None:
    for name in ("temporal", "temporal-ui"):
        for port in services[name]["ports"]:
            # docker-compose renders short syntax as a string, newer ones as a mapping.
            host = port.split(":")[0] if isinstance(port, str) else port.get("host_ip")
            assert host == "127.0.0.1", (name, port)
