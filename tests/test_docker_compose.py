"""docker-compose.yml describes the production-like stack and parses (no Docker engine here)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
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
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config"],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_compose_file_parses_with_every_service_and_health_check() -> None:
    result = compose_config(SECRETS)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"postgresql", "temporal", "temporal-ui", "migrate", "api", "worker"}
    for name in ("postgresql", "temporal", "api", "worker"):
        assert "healthcheck" in services[name], name
    assert services["api"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert services["worker"]["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_compose_refuses_to_start_without_each_secret(secret: str) -> None:
    result = compose_config({k: v for k, v in SECRETS.items() if k != secret})
    assert result.returncode != 0
    assert secret in result.stderr


def test_temporal_is_published_on_the_loopback_address_only() -> None:
    services = yaml.safe_load(compose_config(SECRETS).stdout)["services"]
    for name in ("temporal", "temporal-ui"):
        for port in services[name]["ports"]:
            # docker-compose renders short syntax as a string, newer ones as a mapping.
            host = port.split(":")[0] if isinstance(port, str) else port.get("host_ip")
            assert host == "127.0.0.1", (name, port)
