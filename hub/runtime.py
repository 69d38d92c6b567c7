"""Everything a running hub holds: built once from settings, shared by both faces and the CLI."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ephyto_core._codelists import default_code_lists
from ephyto_core._safexml import XmlLimits
from ephyto_core._schemas import SchemaSet, default_schema_set
from ephyto_core._validation import Validator
from hub.codelists.service import CodeListService
from hub.database import create_engine, create_sessionmaker
from hub.envelopes.service import EnvelopeLimits, EnvelopeService
from hub.nppos.registry import RegistryCache
from hub.nppos.service import NppoService
from hub.observability.validation import ObservedValidator
from hub.routing.amqp import AmqpBroker
from hub.routing.broker import Broker
from hub.routing.memory import InProcessBroker
from hub.routing.topology import Topology
from hub.settings import HubSettings
from hub.signing.evidence import Checkpointer, EvidenceChainer
from hub.signing.keys import load_seal
from hub.signing.service import SigningService


@dataclass(frozen=True, kw_only=True)
class HubRuntime:
    settings: HubSettings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    schemas: SchemaSet
    validator: Validator
    envelopes: EnvelopeService
    nppos: NppoService
    #: This process's snapshot of the NPPO registry, rebuilt when the registry changes.
    registry: RegistryCache
    codelists: CodeListService
    #: The hub's seal, receipts and content-signature checks (hub/signing).
    signing: SigningService
    #: Appends committed envelope events to the evidence chain (run by the routing workers).
    evidence: EvidenceChainer
    #: The routing fabric (hub/routing): RabbitMQ, or the in-process broker. Not connected here:
    #: the routing workers start it.
    broker: Broker

    async def close(self) -> None:
        await self.broker.close()
        await self.engine.dispose()


def build_runtime(settings: HubSettings) -> HubRuntime:
    """Compile schemas, load code lists, and create (not connect) the database engine."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.sqlalchemy_url, pool_size=settings.database_pool_size)
    # Compiled schemas and code lists are immutable: one copy per process serves every runtime.
    schemas = default_schema_set()
    code_lists = default_code_lists()
    # Observed: counts findings by area and level for ephyto_validation_results_total.
    validator = ObservedValidator(
        schemas=schemas,
        code_lists=code_lists,
        limits=XmlLimits(max_bytes=settings.max_content_bytes),
    )
    codelists = CodeListService(code_lists=code_lists)
    signing = SigningService(seal=load_seal(settings))
    sessionmaker = create_sessionmaker(engine)
    registry = RegistryCache()
    # Every committed envelope event joins the evidence chain; the routing workers run it.
    evidence = EvidenceChainer(
        sessionmaker,
        checkpointer=Checkpointer(
            signer=signing.seal_key, every=settings.evidence_checkpoint_every
        ),
    )
    return HubRuntime(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        schemas=schemas,
        validator=validator,
        envelopes=EnvelopeService(
            validator=validator,
            acknowledgement_schema=schemas.acknowledgement,
            limits=EnvelopeLimits(max_content_bytes=settings.max_content_bytes),
            accepted_statuses=frozenset(settings.accepted_certificate_statuses),
            signing=signing,
            registry=registry,
        ),
        nppos=NppoService(names=codelists.name_of),
        registry=registry,
        evidence=evidence,
        codelists=codelists,
        signing=signing,
        broker=build_broker(settings),
    )


def build_broker(settings: HubSettings) -> Broker:
    topology = Topology(prefix=settings.broker_prefix)
    if settings.broker_url:
        return AmqpBroker(settings.broker_url, topology)
    return InProcessBroker(topology)
