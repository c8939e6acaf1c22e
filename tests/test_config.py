"""Config loading: typed, strict, secrets from the environment and redacted, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from connectors.x import XSourceConfig
from monitor.cli import main
from monitor.config import ConfigError, find_config, load_config

ROOT = Path(__file__).resolve().parents[1]
BASE = {
    "brands": [{"name": "Kestrel", "terms": ["kestrel"]}],
    "sources": {"feed": {"type": "replay", "path": "feed.jsonl"}},
}


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_shipped_config_is_valid() -> None:
    config = load_config(ROOT / "config.yaml")
    assert config.brands[0].name == "Kestrel"


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, {**BASE, "storage": {"url": "sqlite:///db.sqlite3"}}))
    assert config.sources["feed"].path == tmp_path / "feed.jsonl"  # type: ignore[union-attr]
    assert config.storage.url == f"sqlite:///{tmp_path / 'db.sqlite3'}"


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        (
            {"brands": [{"name": "K", "terms": ["k"], "colour": "red"}]},
            "brands.0.colour",
            "unknown key",
        ),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        (
            {"sources": {"feed": {"type": "replay", "path": "f", "interval_seconds": "often"}}},
            "sources.feed.interval_seconds",
            "valid number",
        ),
        ({"sources": {"feed": {"type": "carrier-pigeon"}}}, "sources.feed", "does not match"),
        ({"brands": []}, "brands", "at least 1"),
    ],
)
def test_bad_config_names_file_key_and_reason(
    tmp_path: Path, change: dict, key: str, reason: str
) -> None:
    path = _write(tmp_path, {**BASE, **change})
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.file == str(path)
    assert caught.value.key == key
    assert reason in caught.value.reason


def test_invalid_yaml_is_reported_with_a_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 3: not valid YAML: mapping values"):
        load_config(_write(tmp_path, "brands:\n  name: a\n   bad: 1\n"))


def test_secret_comes_from_environment_and_is_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", "sekrit-token")
    sources = {"x": {"type": "x", "bearer_token": "${X_BEARER_TOKEN}"}}
    path = _write(tmp_path, {**BASE, "sources": sources})
    source = load_config(path).sources["x"]
    assert isinstance(source, XSourceConfig)
    assert source.bearer_token is not None
    assert source.bearer_token.get_secret_value() == "sekrit-token"
    assert main(["check-config", "--config", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "sekrit-token" not in printed
    assert "bearer_token: '**********'" in printed


def test_missing_secret_of_an_enabled_source_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    sources = {"x": {"type": "x", "bearer_token": "${X_BEARER_TOKEN}"}}
    path = _write(tmp_path, {**BASE, "sources": sources})
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: sources.x.bearer_token: environment variable X_BEARER_TOKEN is not set" in err
    disabled = {"x": {**sources["x"], "enabled": False}}
    assert load_config(_write(tmp_path, {**BASE, "sources": disabled}))


def test_config_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANDMON_CONFIG", "/etc/brandmon.yaml")
    assert find_config("given.yaml") == Path("given.yaml")
    assert find_config(None) == Path("/etc/brandmon.yaml")
    monkeypatch.delenv("BRANDMON_CONFIG")
    assert find_config(None) == Path("config.yaml")


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: cannot read" in capsys.readouterr().err


def _one_line_exit_2(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    return err


def test_non_utf8_config_is_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"brands:\n  - name: Caf\xe9\n")
    err = _one_line_exit_2(capsys, "check-config", "--config", str(path))
    assert f"{path}: line 2: not UTF-8 text (byte 0xe9)" in err


def test_a_key_given_twice_is_an_error(tmp_path: Path, capsys) -> None:
    text = yaml.safe_dump(BASE) + "timezone: UTC\ntimezone: Europe/Paris\n"
    err = _one_line_exit_2(capsys, "check-config", "--config", str(_write(tmp_path, text)))
    assert "not valid YAML: duplicate key 'timezone'" in err


def test_storage_url_password_is_never_printed(tmp_path: Path, capsys) -> None:
    url = "postgresql+psycopg://brandmon:s3cret-pw@127.0.0.1:1/brandmon"
    path = _write(tmp_path, {**BASE, "storage": {"url": url}})
    err = _one_line_exit_2(capsys, "check-config", "--config", str(path))
    assert f"{path}: storage.url: postgresql+psycopg://brandmon:***@127.0.0.1:1/brandmon" in err
    assert "cannot connect" in err
    assert "s3cret" not in err
    err = _one_line_exit_2(capsys, "status", "--config", str(path))
    assert "cannot connect" in err
    assert "s3cret" not in err


def test_check_config_redacts_a_reachable_storage_url(tmp_path: Path, capsys) -> None:
    from monitor.config import redacted

    config = load_config(_write(tmp_path, {**BASE, "storage": {"url": "postgresql://u:pw@db/x"}}))
    assert redacted(config)["storage"]["url"] == "postgresql://u:***@db/x"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql+nosuchdriver://u@h/db", "not a usable database URL"),
        ("not a url", "not a usable database URL"),
    ],
)
def test_a_bad_storage_url_fails_check_config(tmp_path: Path, capsys, url, reason) -> None:
    path = _write(tmp_path, {**BASE, "storage": {"url": url}})
    err = _one_line_exit_2(capsys, "check-config", "--config", str(path))
    assert f"{path}: storage.url: " in err
    assert reason in err
