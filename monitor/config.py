"""Configuration: YAML in, typed and validated models out, or one clear error.

Validated once at load (pydantic, `extra="forbid"` everywhere) so that a typo is an error
naming the file and the key instead of a silently ignored setting. Secrets are written as
`${ENV_VAR}` references, expanded here, held as `SecretStr` and redacted when printed.
"""

from __future__ import annotations

import functools
import operator
import os
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from connectors import CONNECTORS
from core.settings import Strict
from rules.settings import RuleOverrides

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
CONFIG_ENV = "BRANDMON_CONFIG"


class ConfigError(Exception):
    """A config problem, worded as `file: key: reason` for a one-line message."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        super().__init__(f"{file}: {key}: {reason}" if key else f"{file}: {reason}")
        self.file, self.key, self.reason = file, key, reason


class BrandConfig(Strict):
    """A brand to watch: what people call it, what to ignore, and its own accounts."""

    name: str = Field(min_length=1)
    terms: list[str] = Field(min_length=1, description="words or phrases that mean the brand")
    exclude: list[str] = Field(default_factory=list, description="posts with these are off-topic")
    handles: dict[str, list[str]] = Field(
        default_factory=dict, description="the brand's own accounts per network (no @)"
    )
    languages: list[str] = Field(default_factory=list, description="empty: every language")
    rules: RuleOverrides = Field(default_factory=RuleOverrides)
    competitor: bool = Field(
        default=False,
        description="tracked and judged like the others for share of voice, but never alerted",
    )

    @field_validator("handles")
    @classmethod
    def _strip_at(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {net: [h.lstrip("@") for h in hs] for net, hs in value.items()}


# Every registered connector's settings model, told apart by its `type` key.
SourceConfig = Annotated[
    functools.reduce(operator.or_, (c.config_model for c in CONNECTORS.values())),
    Field(discriminator="type"),
]


SLACK_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
SLACK_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


def _channel_id(value: str | None) -> str | None:
    """Channel IDs, not names: recovery after a crash reads the channel's history by ID."""
    if value is not None and not SLACK_CHANNEL_ID.match(value):
        raise ValueError(
            f"{value!r} is not a channel ID; use the ID (like C0123ABCD) from the channel's "
            "details in Slack, not its name"
        )
    return value


class SlackRateLimit(Strict):
    """At most `max_messages` top-level alerts per channel in any `per_minutes` window; the
    rest are rolled into one summary message so a storm does not bury the channel."""

    max_messages: int = Field(default=10, ge=1)
    per_minutes: float = Field(default=10, gt=0)


class QuietHours(Strict):
    """A daily window in the config's `timezone` (it may cross midnight, e.g. 22:00-07:00).

    `hold` keeps every support alert pending until the window ends; `escalations_only` lets
    escalations through and holds the rest. Operations alerts are never held.
    """

    start: time
    end: time
    policy: Literal["hold", "escalations_only"] = "hold"

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end are the same time")
        return self


def _ping_target(value: str | None) -> str | None:
    if value is None or value in {"here", "channel"} or SLACK_USERGROUP_ID.match(value):
        return value
    raise ValueError(f'{value!r}: use "here", "channel" or a user group ID like S0123ABCD')


class SlackConfig(Strict):
    bot_token: SecretStr | None = Field(default=None, description="xoxb-... (chat:write)")
    app_token: SecretStr | None = Field(
        default=None, description="xapp-... (connections:write): enables the alert buttons"
    )
    channel: str | None = Field(default=None, description="support channel ID, e.g. C0123ABCD")
    ops_channel: str | None = Field(
        default=None, description="channel ID for source failures; default: `channel`"
    )
    escalate_to: str = Field(
        default="here", description='"here", "channel" or a user group ID (S0123ABCD)'
    )
    base_url: str = "https://slack.com/api/"
    timeout_seconds: float = Field(default=10, gt=0)
    rate_limit: SlackRateLimit = Field(default_factory=SlackRateLimit)
    quiet_hours: QuietHours | None = None
    snooze_minutes: float = Field(default=60, gt=0)

    _ids = field_validator("channel", "ops_channel")(_channel_id)

    _target = field_validator("escalate_to")(_ping_target)


class ReplyConfig(Strict):
    """Suggested replies: per-brand template files and what a reply may promise."""

    templates: dict[str, Path] = Field(
        default_factory=dict,
        description="brand name -> YAML file overriding rules/data/replies.yaml",
    )
    allow_refund_mention: bool = Field(
        default=False, description="let replies say a refund will be looked at"
    )


class BrandAlerting(Strict):
    """How one brand's alerts and replies speak and where its urgent ones go."""

    vocabulary: dict[str, str] = Field(
        default_factory=dict,
        description="what replies ask for, e.g. booking: your order number",
    )
    tone: Literal["friendly", "formal"] = "friendly"
    sign_off: str = Field(default="", max_length=40, description="appended when it fits, e.g. ^Sam")
    status_page: str | None = Field(
        default=None, description="URL a holding reply points to while an incident is under way"
    )
    security_channel: str | None = Field(
        default=None, description="Slack channel for impersonation and phishing warnings"
    )
    security_ping: str | None = Field(
        default=None, description='who is pinged on them: "here" or a user group ID'
    )
    praise_reach: int = Field(
        default=10_000, ge=0, description="followers from which praise gets a thank-you alert"
    )

    _ids = field_validator("security_channel")(_channel_id)
    _target = field_validator("security_ping")(_ping_target)


class EscalationRoute(Strict):
    """Safety, legal, privacy and vulnerable-customer posts: who must see them now."""

    channel: str | None = Field(default=None, description="Slack channel; default: the support one")
    ping: str | None = Field(
        default=None, description='"here", "channel" or a user group ID; default: escalate_to'
    )

    _ids = field_validator("channel")(_channel_id)
    _target = field_validator("ping")(_ping_target)


class IncidentConfig(Strict):
    """When many complaints of one kind arrive at once: an incident, raised before the hour
    closes, that gathers its complaints in one Slack thread."""

    burst_posts: int = Field(
        default=8, ge=0, description="complaints within burst_minutes that start one; 0: off"
    )
    burst_minutes: int = Field(default=20, ge=1, le=60)
    category: str | None = Field(
        default=None, description="count only this complaint category; default: every one"
    )
    hours: float = Field(
        default=3, gt=0, description="how long an incident lasts after its last spike"
    )
    thread: bool = Field(
        default=True, description="post the incident's complaints in its message's thread"
    )


class AlertingConfig(Strict):
    """Where alerts go and when a post is worth one."""

    brands: dict[str, BrandAlerting] = Field(
        default_factory=dict, description="brand name -> its reply voice and contacts"
    )
    escalation: EscalationRoute = Field(default_factory=EscalationRoute)
    incident: IncidentConfig = Field(default_factory=IncidentConfig)

    sink: Literal["console", "slack"] = "console"
    slack: SlackConfig = Field(default_factory=SlackConfig)
    replies: ReplyConfig = Field(default_factory=ReplyConfig)
    risk_threshold: float = Field(default=60, ge=0, le=100)
    escalation_threshold: float = Field(default=75, ge=0, le=100)
    dispatch_interval_seconds: float = Field(default=10, gt=0)
    spike_check_interval_seconds: float = Field(
        default=300, gt=0, description="how often the last complete hour is checked for spikes"
    )
    max_attempts: int = Field(default=8, ge=1)

    @model_validator(mode="after")
    def _slack_needs_a_channel(self) -> AlertingConfig:
        if self.sink == "slack" and self.slack.channel is None:
            raise ValueError("alerting.slack.channel is required when sink is slack")
        return self


class SmtpConfig(Strict):
    """The mail relay: STARTTLS (587), implicit TLS "ssl" (465) or "none" (a local relay)."""

    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = Field(default=None, description="log in when set")
    password: SecretStr | None = Field(default=None, description="e.g. ${BRANDMON_SMTP_PASSWORD}")
    sender: str = "brandmon@localhost"
    timeout_seconds: float = Field(default=30, gt=0)
    ca_file: Path | None = Field(
        default=None, description="CA bundle to trust for the relay (a self-signed relay)"
    )


class DigestConfig(Strict):
    """The weekly digest for marketing: when it is sent, to whom, and through which relay."""

    enabled: bool = False
    recipients: list[str] = Field(default_factory=list)
    day_of_week: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    hour: int = Field(default=9, ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)
    max_attempts: int = Field(default=8, ge=1, description="SMTP attempts before giving up")
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.fullmatch(r"[^@\s,<>]+@[^@\s,<>]+", address):
                raise ValueError(f"{address!r} is not an email address")
        return value

    @model_validator(mode="after")
    def _recipients_when_enabled(self) -> DigestConfig:
        if self.enabled and not self.recipients:
            raise ValueError("recipients: an enabled digest needs at least one recipient")
        return self


class EngagementConfig(Strict):
    """When to re-read the engagement of tracked (flagged) posts: minutes after posting."""

    # The 7-day read (10080) gives a post that has not cooled by then a known outcome, which
    # makes it an example for its brand's viral baseline (monitor/history.py).
    checkpoints_minutes: list[float] = Field(
        default=[5, 15, 60, 180, 720, 1440, 10080], min_length=1
    )
    refresh_interval_seconds: float = Field(default=60, gt=0)


class LearningConfig(Strict):
    """Each brand's correction to the shipped judgement, learned from its team's labels."""

    enabled: bool = True
    interval_seconds: float = Field(default=3600, gt=0, description="how often to relearn")
    min_labels: int = Field(default=20, ge=1, description="labels needed before learning")


class StorageConfig(Strict):
    url: str = "sqlite:///data/brandmon.sqlite3"


class MetricsConfig(Strict):
    """/metrics (Prometheus text) and /healthz over HTTP; off unless a port is given."""

    port: int | None = Field(default=None, ge=0, le=65535, description="0: any free port")
    host: str = Field(default="127.0.0.1", description="local only unless changed")


class AppConfig(Strict):
    timezone: str = "UTC"
    brands: list[BrandConfig] = Field(min_length=1)
    sources: dict[str, SourceConfig] = Field(min_length=1)
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    engagement: EngagementConfig = Field(default_factory=EngagementConfig)
    learning: LearningConfig = Field(default_factory=LearningConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # dotted key -> the environment variable its value came from, to name it in messages
    _env_refs: dict[str, str] = PrivateAttr(default_factory=dict)

    def env_var(self, key: str) -> str | None:
        """The environment variable `key` (e.g. sources.x.bearer_token) was read from."""
        return self._env_refs.get(key)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _alerting_brands_exist(self) -> AppConfig:
        names = {b.name for b in self.brands}
        unknown = sorted(set(self.alerting.brands) - names)
        if unknown:
            raise ValueError(f"alerting.brands.{unknown[0]}: no brand of that name")
        return self

    def brand_alerting(self, name: str) -> BrandAlerting:
        """The brand's alerting settings, the defaults when it has none."""
        return self.alerting.brands.get(name) or BrandAlerting()

    def brand(self, name: str) -> BrandConfig:
        for brand in self.brands:
            if brand.name == name:
                return brand
        raise KeyError(name)


def find_config(explicit: str | None) -> Path:
    """`--config`, then `$BRANDMON_CONFIG`, then `./config.yaml`."""
    return Path(explicit or os.environ.get(CONFIG_ENV) or "config.yaml")


def _expand_env(
    node: Any, path: str, missing: dict[str, str], refs: dict[str, str] | None = None
) -> Any:
    """Replace `${VAR}` in strings; unset variables become None and are noted in `missing`,
    every reference in `refs` (dotted key -> first variable)."""
    refs = {} if refs is None else refs
    if isinstance(node, dict):
        return {
            k: _expand_env(v, f"{path}.{k}" if path else str(k), missing, refs)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_expand_env(v, f"{path}.{i}", missing, refs) for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        names = ENV_REF.findall(node)
        if names:
            refs[path] = names[0]
        unset = [n for n in names if n not in os.environ]
        if unset:
            missing[path] = unset[0]
            return None
        return ENV_REF.sub(lambda m: os.environ[m.group(1)], node)
    return node


def _required_secrets(config: AppConfig) -> dict[str, str]:
    """Secret keys that enabled features cannot work without: dotted key -> what it is for."""
    needed: dict[str, str] = {}
    for name, source in config.sources.items():
        if source.enabled:
            for key, purpose in source.required_secrets.items():
                needed[f"sources.{name}.{key}"] = purpose
    if config.alerting.sink == "slack":
        needed["alerting.slack.bot_token"] = "the Slack bot token"
    if config.digest.enabled and config.digest.smtp.username:
        needed["digest.smtp.password"] = "the SMTP password for digest.smtp.username"
    return needed


def _lookup(config: AppConfig, dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def parse_config(raw: Any, *, file: str = "<config>", base_dir: Path | None = None) -> AppConfig:
    """Validate already-parsed YAML; relative paths resolve against `base_dir`."""
    if not isinstance(raw, dict):
        raise ConfigError(file, "", "the top level must be a mapping of settings")
    missing: dict[str, str] = {}
    refs: dict[str, str] = {}
    expanded = _expand_env(raw, "", missing, refs)
    try:
        config = AppConfig.model_validate(expanded)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in _clean_loc(first["loc"], expanded))
        reason = first["msg"]
        if first["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling; see README, Configuration reference)"
        raise ConfigError(file, key, reason) from None
    for key, purpose in _required_secrets(config).items():
        if _lookup(config, key) is None:
            var = missing.get(key)
            hint = f"environment variable {var} is not set" if var else "missing"
            raise ConfigError(file, key, f"{hint} ({purpose} is required)")
    if base_dir is not None:
        config = _resolve_paths(config, base_dir)
    config._env_refs.update(refs)
    return config


def _clean_loc(loc: tuple[int | str, ...], raw: Any) -> tuple[int | str, ...]:
    """The key path as written in the file: pydantic puts a source's `type` (the union's
    tag) into the path (sources.x.x.interval_seconds); the file has no such level."""
    if len(loc) >= 3 and loc[0] == "sources" and isinstance(raw, dict):
        source = (
            (raw.get("sources") or {}).get(loc[1]) if isinstance(raw.get("sources"), dict) else None
        )
        if isinstance(source, dict) and source.get("type") == loc[2]:
            return (*loc[:2], *loc[3:])
    return loc


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error (the
    plain loader keeps the last one silently, so a setting can vanish unnoticed)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _resolve_paths(config: AppConfig, base_dir: Path) -> AppConfig:
    sources = {name: source.with_base_dir(base_dir) for name, source in config.sources.items()}
    storage = config.storage
    prefix = "sqlite:///"
    if storage.url.startswith(prefix) and not storage.url.startswith(prefix + "/"):
        rest = storage.url[len(prefix) :]
        if rest and rest != ":memory:":
            storage = StorageConfig(url=prefix + str(base_dir / rest))
    replies = config.alerting.replies
    templates = {
        brand: path if path.is_absolute() else base_dir / path
        for brand, path in replies.templates.items()
    }
    alerting = config.alerting.model_copy(
        update={"replies": replies.model_copy(update={"templates": templates})}
    )
    return config.model_copy(update={"sources": sources, "storage": storage, "alerting": alerting})


def load_config(path: Path) -> AppConfig:
    """Read, expand and validate a config file; raise `ConfigError` naming file and key."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file, "", f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(
            file,
            f"line {line}",
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as UTF-8",
        ) from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise ConfigError(file, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_config(raw, file=file, base_dir=path.resolve().parent)


def redacted(config: AppConfig) -> dict[str, Any]:
    """The effective config as plain data, secrets shown as '**********' and the password in
    `storage.url` as '***'."""
    data = config.model_dump(mode="json")
    data["storage"]["url"] = redact_url(config.storage.url)
    return data


def redact_url(url: str) -> str:
    """A database URL fit for a log or an error message: its password replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
