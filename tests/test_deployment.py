"""The production stack file and the environment contract, checked without a Docker engine."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_defines_web_worker_beat_postgres_and_redis_wired_together():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert env["DJANGO_DEBUG"] == "false"
        assert set(services[name]["depends_on"]) == {"postgres", "redis"}
    assert "gunicorn tracker.wsgi" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A tracker worker")
    assert services["beat"]["command"].startswith("celery -A tracker beat")
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "crossline"


def test_every_setting_read_from_the_environment_is_documented():
    import re

    settings_src = (ROOT / "tracker" / "settings.py").read_text()
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_src))
    names |= set(re.findall(r"^\s+([A-Z_]+)=\(", settings_src, re.M))
    documented = (ROOT / ".env.example").read_text() + (ROOT / "README.md").read_text()
    missing = sorted(n for n in names if n not in documented)
    assert not missing, f"undocumented settings: {missing}"
