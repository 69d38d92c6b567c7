"""Hub settings, read from `EPHYTO_*` environment variables (or passed in by tests).

Nothing here connects to anything: the app factory builds engines and brokers from these values.
"""

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path.home() / ".ephyto"


def async_database_url(url: str) -> str:
    """Accept the plain URLs people write and pick the async driver we ship.

    `postgresql://user@host/db` -> `postgresql+asyncpg://...`; `sqlite:///path` ->
    `sqlite+aiosqlite:///path`. A URL that already names a driver is kept as it is.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    if scheme == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    return url


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EPHYTO_", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    #: Empty means the embedded default: SQLite in `data_dir/hub.db`.
    database_url: str = ""
    #: PostgreSQL connections each process keeps open; a unit of work that finds them all busy
    #: waits for one (no overflow: opening and closing connections under load cost the hub and
    #: PostgreSQL more than waiting). Several processes x this must stay under max_connections.
    database_pool_size: int = Field(default=20, ge=1)
    #: Empty means the in-process broker; an `amqp://` URL means RabbitMQ.
    broker_url: str = ""
    #: Prefix of every exchange and queue name, so several hubs (or test runs) share a vhost.
    broker_prefix: str = "ephyto"
    #: Run the outbox relay and delivery workers inside `ephyto hub serve`. Unset: only when
    #: embedded (the in-process broker lives in that process); with RabbitMQ, `ephyto hub worker`
    #: runs them as their own processes.
    workers_in_process: bool | None = None

    # Routing and push delivery (hub/routing). Defaults are for production; tests shorten them.
    #: A published envelope whose box consumer has not recorded it after this long is published
    #: again (consumers are idempotent): the net under every broker failure mode.
    outbox_republish_after_seconds: float = 300.0
    #: The hub's own TLS client identity when it calls a push receiver's DeliverEnvelope.
    push_client_cert: Path | None = None
    push_client_key: Path | None = None
    #: CA bundle that push receivers' server certificates must chain to (default: system store).
    push_ca_bundle: Path | None = None
    push_timeout_seconds: float = 30.0
    #: Attempts before FailedDelivery; a push that keeps failing for longer than
    #: `push_give_up_after_seconds` fails too, even with attempts left.
    push_max_attempts: int = 12
    push_give_up_after_seconds: float = 24 * 3600.0
    push_backoff_base_seconds: float = 2.0
    push_backoff_max_seconds: float = 900.0
    #: Consecutive failures that open a destination's circuit, and how long it first stays open
    #: (doubling on each failed probe, up to `push_backoff_max_seconds`).
    push_circuit_threshold: int = 5
    push_circuit_open_seconds: float = 30.0
    #: Pushes in flight per destination per worker process: a slow receiver holds only these.
    push_concurrency: int = 4
    #: The address national systems use; it goes into the WSDL we serve.
    public_url: str = "https://127.0.0.1:8443"
    environment: str = "development"

    # Limits on what one request may carry. 16 MiB fits real certificates with several
    # scanned attachments (the richest public sample is 216 KB) with a wide margin.
    max_request_bytes: int = 24 * 1024 * 1024
    max_content_bytes: int = 16 * 1024 * 1024

    # Transport identity.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    #: Addresses of TLS-terminating proxies allowed to pass the client certificate in a header.
    # NoDecode: the variable is "10.0.0.0/8,192.0.2.1", split by the validator below; without
    # it pydantic-settings would try to read it as JSON and refuse to start.
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list
    )
    client_cert_header: str = "X-Client-Cert"

    #: Certificate statuses the hub accepts (70 issued, 40 withdrawn, ...): configurable
    #: because the full IPPC list is not public.
    accepted_certificate_statuses: list[int] = Field(default_factory=lambda: [70, 40])

    # The hub's seal (hub/signing): signs accepted envelopes, delivery receipts and evidence
    # checkpoints. Without one, development uses a self-made seal in data_dir; production refuses.
    seal_cert: Path | None = None
    seal_key: Path | None = None
    #: A signed checkpoint of the evidence chain every this many events (0: only on demand).
    evidence_checkpoint_every: int = 1000

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [ip_network(part.strip()) for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "HubSettings":
        if self.tls_cert is not None and (self.tls_key is None or self.tls_client_ca is None):
            # Without a client CA the server would not ask for client certificates at all,
            # and every NPPO would be anonymous: refuse rather than serve half-configured.
            raise ValueError("EPHYTO_TLS_CERT needs EPHYTO_TLS_KEY and EPHYTO_TLS_CLIENT_CA")
        if (self.push_client_cert is None) != (self.push_client_key is None):
            raise ValueError("EPHYTO_PUSH_CLIENT_CERT and EPHYTO_PUSH_CLIENT_KEY go together")
        if (self.seal_cert is None) != (self.seal_key is None):
            raise ValueError("EPHYTO_SEAL_CERT and EPHYTO_SEAL_KEY go together")
        if not self.broker_url and self.workers_in_process is False:
            # The in-process broker exists only inside the serving process: nobody else could
            # route what it accepts.
            raise ValueError("without EPHYTO_BROKER_URL the workers must run in process")
        if self.environment == "production":
            if not self.database_url:
                raise ValueError("EPHYTO_DATABASE_URL must be set in production (no SQLite)")
            if self.tls_cert is None and not self.trusted_proxies:
                raise ValueError(
                    "production needs EPHYTO_TLS_CERT/KEY/CLIENT_CA or EPHYTO_TRUSTED_PROXIES"
                )
            if self.seal_cert is None:
                # Seals from a key nobody was told about prove nothing to anyone.
                raise ValueError("production needs EPHYTO_SEAL_CERT and EPHYTO_SEAL_KEY")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return async_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.data_dir / 'hub.db'}"

    @property
    def run_workers_in_process(self) -> bool:
        if self.workers_in_process is not None:
            return self.workers_in_process
        return not self.broker_url

    @property
    def soap_path(self) -> str:
        return "/hub/DeliveryService"
