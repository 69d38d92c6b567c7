"""The NPPO registry as every request reads it: one immutable snapshot per process, reloaded only
when the registry changed.

Why: a submission asks the registry six questions (whose client certificate is this, may the
sender send, may the destination receive this type and status, is there a DELEGATE or FORWARD
rule...). Asked of the database, that was seven queries per submission, a third of its cost, for
data that changes a few times a year. Asked of a snapshot, it is one query: the registry's
change token.

Why a token and not a time to live: a revoked client certificate, a deactivated NPPO or a new
channel rule must count from the very next request, in every hub process, whoever changed it
(the registry service, an operator, a hand-written SQL fix). Database triggers
(migration 0401_registry_version) give ``registry_version.token`` a new random value on any
insert, update, delete or truncate of the registry's tables; each unit of work reads it once, and
a process reloads the whole registry (four queries) when it differs from the one its snapshot was
built from. Reading the token before loading means a snapshot is never older than its token: at
worst a change that commits in between causes one extra reload.

The table is deliberately not part of the ORM metadata: nothing but the triggers writes it, and
code that empties every ORM table (tests, tools) must not delete its row. Without the row the
snapshot is rebuilt for every unit of work, which is slower but never stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import Column, Integer, MetaData, String, Table, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from hub.nppos.models import (
    AllowedDocument,
    ChannelRule,
    ClientCertificate,
    Nppo,
    SigningCertificate,
)

registry_version: Final = Table(
    "registry_version",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("token", String(64), nullable=False),
)

_READ_TOKEN: Final = select(registry_version.c.token).where(registry_version.c.id == 1)

#: The registry's models: the tables whose changes the triggers report (migration
#: 0401_registry_version, which keeps its own frozen copy of the names, as migrations must).
_REGISTRY_MODELS: Final = (
    Nppo,
    AllowedDocument,
    ChannelRule,
    ClientCertificate,
    SigningCertificate,
)
REGISTRY_TABLES: Final = tuple(model.__tablename__ for model in _REGISTRY_MODELS)

_SESSION_KEY: Final = "ephyto.registry"

RuleKey = tuple[str, str, str, int, int]
"""(rule type, country code, direction, certificate type, certificate status)"""


@dataclass(frozen=True, kw_only=True, slots=True)
class NppoEntry:
    """An NPPO or channel as the envelope rules read it."""

    id: int
    code: str
    is_channel: bool
    can_send: bool
    can_receive: bool
    active: bool
    delivery_mode: str
    push_url: str | None
    content_signature: str
    #: The (certificate type, status) pairs it may exchange: its active allowed documents.
    allowed: frozenset[tuple[int, int]]


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientCertificateEntry:
    nppo: NppoEntry
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Registry:
    """One consistent view of the registry."""

    by_code: Mapping[str, NppoEntry]
    client_certificates: Mapping[str, ClientCertificateEntry]
    #: Active rules of active channels, oldest rule first.
    rules: Mapping[RuleKey, tuple[NppoEntry, ...]] = field(default_factory=dict)

    def nppo(self, code: str) -> NppoEntry | None:
        return self.by_code.get(code)

    def client_certificate(self, fingerprint_sha256: str) -> ClientCertificateEntry | None:
        return self.client_certificates.get(fingerprint_sha256)

    def channels_with_rule(
        self,
        *,
        rule_type: str,
        country_code: str,
        direction: str,
        certificate_type: int,
        certificate_status: int,
    ) -> tuple[NppoEntry, ...]:
        key = (rule_type, country_code, direction, certificate_type, certificate_status)
        return self.rules.get(key, ())


async def load_registry(session: AsyncSession) -> Registry:
    """The whole registry in four queries (a few hundred rows for every NPPO in the world)."""
    allowed: dict[int, set[tuple[int, int]]] = defaultdict(set)
    documents = await session.execute(
        select(
            AllowedDocument.nppo_id,
            AllowedDocument.certificate_type,
            AllowedDocument.certificate_status,
        ).where(AllowedDocument.active.is_(True))
    )
    for nppo_id, certificate_type, certificate_status in documents:
        allowed[nppo_id].add((certificate_type, certificate_status))

    by_id: dict[int, NppoEntry] = {}
    for nppo in (await session.execute(select(Nppo))).scalars():
        by_id[nppo.id] = NppoEntry(
            id=nppo.id,
            code=nppo.code,
            is_channel=nppo.is_channel,
            can_send=nppo.can_send,
            can_receive=nppo.can_receive,
            active=nppo.active,
            delivery_mode=nppo.delivery_mode,
            push_url=nppo.push_url,
            content_signature=nppo.content_signature,
            allowed=frozenset(allowed.get(nppo.id, ())),
        )

    certificates = await session.execute(
        select(
            ClientCertificate.fingerprint_sha256,
            ClientCertificate.nppo_id,
            ClientCertificate.not_before,
            ClientCertificate.not_after,
            ClientCertificate.revoked_at,
        )
    )
    client_certificates = {
        fingerprint: ClientCertificateEntry(
            nppo=by_id[nppo_id], not_before=not_before, not_after=not_after, revoked_at=revoked_at
        )
        for fingerprint, nppo_id, not_before, not_after, revoked_at in certificates
    }

    rules: dict[RuleKey, list[NppoEntry]] = defaultdict(list)
    rows = await session.execute(
        select(
            ChannelRule.nppo_id,
            ChannelRule.rule_type,
            ChannelRule.country_code,
            ChannelRule.direction,
            ChannelRule.certificate_type,
            ChannelRule.certificate_status,
        )
        .where(ChannelRule.active.is_(True))
        .order_by(ChannelRule.id)
    )
    for nppo_id, rule_type, country, direction, certificate_type, certificate_status in rows:
        channel = by_id[nppo_id]
        if channel.active:
            rules[(rule_type, country, direction, certificate_type, certificate_status)].append(
                channel
            )

    return Registry(
        by_code={entry.code: entry for entry in by_id.values()},
        client_certificates=client_certificates,
        rules={key: tuple(channels) for key, channels in rules.items()},
    )


class RegistryCache:
    """This process's snapshot of the registry and the change token it was built from."""

    def __init__(self) -> None:
        self._registry: Registry | None = None
        self._token: str | None = None
        #: How often the snapshot was (re)built: for tests and the curious.
        self.loads = 0

    async def current(self, session: AsyncSession) -> Registry:
        """The registry as of this unit of work; checked against the token once per session."""
        checked: Registry | None = session.info.get(_SESSION_KEY)
        if checked is not None:
            return checked
        token = (await session.execute(_READ_TOKEN)).scalar_one_or_none()
        registry = self._registry
        if registry is None or token is None or token != self._token:
            registry = await load_registry(session)
            self.loads += 1
            if token is not None:
                self._registry, self._token = registry, token
        session.info[_SESSION_KEY] = registry
        return registry


# A session's checked snapshot lasts one transaction, and not past a flush that changed the
# registry in it (a test or tool that registers an NPPO and then submits in one transaction).


@event.listens_for(Session, "after_flush")
def _forget_after_registry_change(session: Session, _flush: UOWTransaction) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, _REGISTRY_MODELS) for obj in changed):
        session.info.pop(_SESSION_KEY, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_at_transaction_end(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)
