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


def _settings_process(*args, **env_vars):
    """Run `manage.py *args` (or `python -c`) in a fresh process whose environment has none of the mode switches."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "CROSSLINE_LOCAL", "CROSSLINE_LOGIN"))}
    env.update(env_vars)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


PRODUCTION = {
    "DJANGO_SECRET_KEY": "k" * 10 + "-production-key-of-more-than-fifty-random-characters-0123456789",
    "DJANGO_ALLOWED_HOSTS": "crossline.example.com",
}


def test_the_deploy_check_passes_with_production_values():
    import re

    result = _settings_process("manage.py", "check", "--deploy", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    reported = re.findall(r"\(([\w.]+\.[EW]\d+)\)", result.stdout + result.stderr)
    assert reported == [], result.stdout + result.stderr  # clean, the API schema's notes included


def test_production_is_the_default_and_stops_without_a_secret_key():
    show = "import django; django.setup(); from django.conf import settings as s; " \
           "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    result = _settings_process("-c", show, DJANGO_SETTINGS_MODULE="tracker.settings", **PRODUCTION)
    assert result.stdout.split() == ["False", "True", "True", "31536000"], result.stderr

    result = _settings_process("-c", "import django; django.setup()", DJANGO_SETTINGS_MODULE="tracker.settings")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY is not set" in result.stderr


def test_a_local_trial_runs_without_debug_over_plain_http_with_a_kept_key(tmp_path):
    show = "import django; django.setup(); from django.conf import settings as s; " \
           "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECRET_KEY)"
    first = _settings_process("-c", show, DJANGO_SETTINGS_MODULE="tracker.settings", CROSSLINE_LOCAL="true",
                              CROSSLINE_VAR_DIR=str(tmp_path))
    debug, redirect, secure, key = first.stdout.split()
    assert (debug, redirect, secure) == ("False", "False", "False") and len(key) >= 50, first.stderr
    assert (tmp_path / "secret_key").read_text() == key and (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    again = _settings_process("-c", show, DJANGO_SETTINGS_MODULE="tracker.settings", CROSSLINE_LOCAL="true",
                              CROSSLINE_VAR_DIR=str(tmp_path))
    assert again.stdout.split()[-1] == key  # sessions survive a restart


def test_dev_py_run_starts_in_local_trial_mode():
    source = (ROOT / "dev.py").read_text()
    assert '"CROSSLINE_LOCAL": os.environ.get("CROSSLINE_LOCAL", "true")' in source
