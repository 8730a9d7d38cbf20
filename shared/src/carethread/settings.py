"""Settings shared by every service, read from the environment (pydantic-settings).

Each service subclasses :class:`ServiceSettings` with its own prefix (``REFERRALS_``,
``MDT_`` ...). Broker and auth settings are shared by all services, so they have their
own prefixes (``KAFKA_``, ``CARETHREAD_AUTH_``) and one value configures the platform.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]


class KafkaSettings(BaseSettings):
    """Broker client settings.

    Defaults suit Apache Kafka. Tansu answers a waiting fetch only after polling its
    storage and a group's first join takes half the session timeout, so the dev runner
    and the tests set ``KAFKA_FETCH_MAX_WAIT_MS``/``KAFKA_SESSION_TIMEOUT_MS`` lower:
    that is configuration, never a code path.
    """

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    fetch_max_wait_ms: int = 500
    session_timeout_ms: int = 45_000
    heartbeat_interval_ms: int = 3_000
    request_timeout_ms: int = 30_000
    partitions: int = 3
    replication_factor: int = 1
    client_id: str = "carethread"


class AuthSettings(BaseSettings):
    """Where tokens are verified from.

    With ``jwks_url`` set, tokens are verified against the identity provider's JWKS.
    Without it, the service uses the dev signing key under ``data/`` (created on first
    use); production refuses to start that way.
    """

    model_config = SettingsConfigDict(env_prefix="CARETHREAD_AUTH_", extra="ignore")

    jwks_url: str | None = None
    dev_key_path: Path = Path("data/dev-signing-key.pem")
    issuer: str = "carethread-dev"
    audience: str = "carethread"
    leeway_seconds: int = 30


class ServiceSettings(BaseSettings):
    """What every service needs; a service adds its prefix, port and its own fields."""

    model_config = SettingsConfigDict(extra="ignore")
    service_name: ClassVar[str] = "service"
    default_port: ClassVar[int] = 8000

    environment: Environment = "development"
    host: str = "127.0.0.1"
    port: int = 0
    # Server processes. Each runs the whole app (its own relay and consumer; on PostgreSQL one
    # relay is active at a time); use as many as the machine has cores to spare.
    workers: int = Field(1, ge=1, le=64)
    database_url: str = ""
    # PostgreSQL connections per server process, all kept open (no overflow: see create_engine).
    database_pool_size: int = Field(20, ge=1, le=200)
    data_dir: Path = Path("data")
    max_body_bytes: int = 1_048_576
    relay_batch_size: int = 500
    relay_poll_interval_ms: int = 100
    # The outbox relay's cycles under a stream of commits are at least this far apart, so
    # that they publish several commits' events at once (Kafka's linger.ms, for the outbox).
    relay_linger_ms: int = Field(5, ge=0, le=1000)
    consumer_max_attempts: int = 3
    consumer_retry_backoff_ms: int = 100
    load_demo_data: bool = False
    log_level: str = "INFO"
    log_json: bool = True
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    def model_post_init(self, context: object, /) -> None:
        if not self.port:
            self.port = self.default_port
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / self.service_name}.db"
