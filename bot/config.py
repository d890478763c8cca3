"""Settings: the one place the environment (or a `.env` file) is read.

Everything else receives a `Settings` object, so tests and the demo can build the app with
exactly the values they need and nothing leaks in from the machine.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_DEFAULT_API_URL = "https://slack.com/api/"

# What each variable expects, for the one-line start-up error.
EXPECTATIONS: dict[str, str] = {
    "SLACK_BOT_TOKEN": "a bot token starting with xoxb-",
    "SLACK_SIGNING_SECRET": "the app's signing secret (Basic Information → App Credentials)",
    "SLACK_APP_TOKEN": "an app-level token starting with xapp-",
    "SLACK_API_URL": "an http(s) URL ending in /api/",
    "DATABASE_URL": "a SQLAlchemy URL such as sqlite:///flywheel.db or postgresql+psycopg://user@host/db",
    "OPENAI_BASE_URL": "an http(s) URL of an OpenAI-compatible endpoint",
    "FLYWHEEL_LLM": "one of auto, openai, off",
    "FLYWHEEL_ADMINS": "comma-separated Slack user IDs like U012ABC,U034DEF",
    "FLYWHEEL_TIMEZONE": "an IANA time zone such as Europe/Berlin",
    "FLYWHEEL_OKR_CYCLE_MONTHS": "a whole number of months that divides 12 (1, 2, 3, 4, 6 or 12)",
    "FLYWHEEL_POSTMORTEM_CHANNEL": "a channel ID such as C0123ABC",
    "PORT": "a TCP port number between 1 and 65535",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "LOG_FORMAT": "console or json",
    "OPENAI_TIMEOUT": "seconds, a number above 0",
    "OPENAI_CONTEXT_TOKENS": "the model's context window in tokens, at least 1024",
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message is the one line a user sees."""


class Settings(BaseSettings):
    """Every variable of DESIGN §1, validated once at start-up."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=SLACK_DEFAULT_API_URL, alias="SLACK_API_URL")
    database_url: str = Field(default="sqlite:///flywheel.db", alias="DATABASE_URL")
    openai_api_key: str | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    openai_model: str = Field(default="gpt-4o-mini", alias="OPENAI_MODEL")
    openai_timeout: float = Field(default=12.0, gt=0, alias="OPENAI_TIMEOUT")
    openai_context_tokens: int = Field(default=16384, ge=1024, alias="OPENAI_CONTEXT_TOKENS")
    flywheel_llm: Literal["auto", "openai", "off"] = Field(default="auto", alias="FLYWHEEL_LLM")
    flywheel_admins: str = Field(default="", alias="FLYWHEEL_ADMINS")
    flywheel_timezone: str = Field(default="UTC", alias="FLYWHEEL_TIMEZONE")
    flywheel_okr_cycle_months: int = Field(default=2, alias="FLYWHEEL_OKR_CYCLE_MONTHS")
    flywheel_postmortem_channel: str | None = Field(default=None, alias="FLYWHEEL_POSTMORTEM_CHANNEL")
    port: int = Field(default=3000, ge=1, le=65535, alias="PORT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", alias="LOG_LEVEL")
    log_format: Literal["console", "json"] = Field(default="console", alias="LOG_FORMAT")

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: str | None) -> str | None:
        if v and not v.startswith("xoxb-"):
            raise ValueError("must start with xoxb-")
        return v or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: str | None) -> str | None:
        if v and not v.startswith("xapp-"):
            raise ValueError("must start with xapp-")
        return v or None

    @field_validator("slack_api_url", "openai_base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_slash(cls, v: str | None) -> str:
        v = v or SLACK_DEFAULT_API_URL
        return v if v.endswith("/") else v + "/"

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str) -> str:
        if "://" not in v:
            raise ValueError("not a SQLAlchemy URL")
        scheme = v.split("://", 1)[0]
        if not scheme.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("only sqlite and postgresql are supported")
        if scheme in ("postgres", "postgresql"):
            # psycopg 3 is the installed driver; plain postgresql:// would ask for psycopg2.
            v = "postgresql+psycopg://" + v.split("://", 1)[1]
        return v

    @field_validator("flywheel_admins")
    @classmethod
    def _admins(cls, v: str) -> str:
        for part in filter(None, (p.strip() for p in v.split(","))):
            if not (part[:1] in "UW" and part.isalnum() and part.isupper()):
                raise ValueError(f"{part!r} is not a Slack user ID")
        return v

    @field_validator("flywheel_timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return v

    @field_validator("flywheel_okr_cycle_months")
    @classmethod
    def _cycle(cls, v: int) -> int:
        if v not in (1, 2, 3, 4, 6, 12):
            raise ValueError("must divide 12")
        return v

    @field_validator("flywheel_postmortem_channel")
    @classmethod
    def _pm_channel(cls, v: str | None) -> str | None:
        if v and not (v[:1] in "CG" and v.isalnum()):
            raise ValueError("not a channel ID")
        return v or None

    # --- derived -------------------------------------------------------------------------
    @property
    def admins(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.flywheel_admins.split(",") if p.strip())

    @property
    def llm_enabled(self) -> bool:
        if self.flywheel_llm == "off":
            return False
        if self.flywheel_llm == "openai":
            return True
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.flywheel_timezone)

    def require_for_serve(self) -> None:
        """`serve` needs credentials that the CLI's other commands do not."""
        if not self.slack_bot_token:
            raise SettingsError(f"SLACK_BOT_TOKEN is not set: expected {EXPECTATIONS['SLACK_BOT_TOKEN']}")
        if not self.socket_mode and not self.slack_signing_secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set: expected "
                f"{EXPECTATIONS['SLACK_SIGNING_SECRET']} (required in HTTP mode)"
            )


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = first.get("loc") or ("?",)
    field = str(loc[0])
    alias = next(
        (f.alias for name, f in Settings.model_fields.items() if name == field or f.alias == field),
        field.upper(),
    )
    alias = alias or field.upper()
    expected = EXPECTATIONS.get(alias, "a valid value")
    value = first.get("input")
    shown = "" if value is None or "TOKEN" in alias or "SECRET" in alias or "KEY" in alias else f" {value!r}"
    return f"{alias}{shown} is invalid: expected {expected}"


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning pydantic's report into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
