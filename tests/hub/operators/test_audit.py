"""Every operator action leaves exactly one audit entry saying who, what, on what, why."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._pki import create_ca, issue_client_certificate, issue_signing_certificate
from hub.database import utcnow
from hub.errors import Conflict
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.domain import DeliveryMode, Direction, RuleType
from hub.operators.actions import OperatorActions
from hub.operators.audit import Actor
from hub.operators.exceptions import SecondOperatorRequired
from hub.operators.models import AuditEntry
from hub.operators.registry import RegistryAdmin
from hub.operators.routing_control import RoutingControl
from hub.routing import repository as routing_repository
from hub.runtime import HubRuntime
from tests.hub.operators.helpers import run, submit

pytestmark = pytest.mark.usefixtures("operators")

ALICE = Actor(username="alice")
BOB = Actor(username="bob", channel="cli")


@dataclass(frozen=True)
class Expected:
    operator: str
    action: str
    target: str
    outcome: str
    channel: str


@dataclass
class Scene:
    runtime: HubRuntime
    actions: OperatorActions
    registry: RegistryAdmin
    number: str
    certificates: Path


Act = Callable[[Scene, AsyncSession], Awaitable[object]]


async def _requested(scene: Scene, action: str) -> int:
    async def work(s: AsyncSession) -> int:
        if action == "mark_failed":
            pending = await scene.actions.request_mark_failed(
                s, actor=ALICE, number=scene.number, reason="setup"
            )
        else:
            pending = await scene.actions.request_reroute(
                s, actor=ALICE, number=scene.number, delegate="XCH", reason="setup"
            )
        return pending.id

    return await run(scene.runtime, work)


async def _pem(scene: Scene, name: str) -> bytes:
    return (scene.certificates / f"{name}.pem").read_bytes()


CASES: dict[str, tuple[Act, Expected]] = {
    "retry": (
        lambda sc, s: sc.actions.retry_now(s, actor=ALICE, number=sc.number, reason="why"),
        Expected("alice", "retry", "{number}", "done", "console"),
    ),
    "pause": (
        lambda sc, s: sc.actions.pause(s, actor=ALICE, destination="PP", reason="why"),
        Expected("alice", "pause", "PP", "done", "console"),
    ),
    "request_mark_failed": (
        lambda sc, s: sc.actions.request_mark_failed(
            s, actor=ALICE, number=sc.number, reason="why"
        ),
        Expected("alice", "request_mark_failed", "{number}", "requested", "console"),
    ),
    "request_reroute": (
        lambda sc, s: sc.actions.request_reroute(
            s, actor=ALICE, number=sc.number, delegate="XCH", reason="why"
        ),
        Expected("alice", "request_reroute", "{number}", "requested", "console"),
    ),
    "register_nppo": (
        lambda sc, s: sc.registry.register(
            s,
            actor=ALICE,
            reason="why",
            code="NZ",
            name="NPPO NZ",
            is_channel=False,
            can_send=True,
            can_receive=True,
            push_url=None,
            allowed_documents=[(851, 70)],
        ),
        Expected("alice", "register_nppo", "NZ", "done", "console"),
    ),
    "add_client_certificate": (
        lambda sc, s: _add_client(sc, s),
        Expected("bob", "add_client_certificate", "CC", "done", "cli"),
    ),
    "add_signing_certificate": (
        lambda sc, s: _add_signing(sc, s),
        Expected("bob", "add_signing_certificate", "CC", "done", "cli"),
    ),
    "add_channel_rule": (
        lambda sc, s: sc.registry.add_channel_rule(
            s,
            actor=ALICE,
            reason="why",
            channel_code="XCH",
            rule_type=RuleType.DELEGATE,
            country_code="CC",
            direction=Direction.INC,
            certificate_type=851,
            certificate_status=70,
        ),
        Expected("alice", "add_channel_rule", "XCH", "done", "console"),
    ),
    "set_allowed_document": (
        lambda sc, s: sc.registry.set_allowed_document(
            s,
            actor=ALICE,
            reason="why",
            code="CC",
            certificate_type=657,
            certificate_status=40,
            active=False,
        ),
        Expected("alice", "set_allowed_document", "CC", "done", "console"),
    ),
    "set_delivery": (
        lambda sc, s: sc.registry.set_delivery(
            s,
            actor=ALICE,
            reason="why",
            code="CC",
            push_url="https://cc.example/ephyto/DeliveryService",
        ),
        Expected("alice", "set_delivery", "CC", "done", "console"),
    ),
}


async def _add_client(scene: Scene, s: AsyncSession) -> str:
    return await scene.registry.add_client_certificate(
        s, actor=BOB, reason="why", code="CC", certificate=await _pem(scene, "cc-new-client")
    )


async def _add_signing(scene: Scene, s: AsyncSession) -> str:
    return await scene.registry.add_signing_certificate(
        s, actor=BOB, reason="why", code="CC", certificate=await _pem(scene, "cc-signing")
    )


@pytest.fixture
async def scene(runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], tmp_path: Path) -> Scene:
    await run(
        runtime,
        lambda s: runtime.nppos.register(
            s,
            code="PP",
            name="Push NPPO",
            delivery_mode=DeliveryMode.PUSH,
            push_url="https://127.0.0.1:9/ephyto/DeliveryService",
        ),
    )
    number = await submit(runtime, nppos["AA"], "PP", "AUDIT-0001")
    await run(runtime, lambda s: routing_repository.route(s, [number], utcnow()))
    ca = create_ca()
    issue_client_certificate(ca, nppo_code="CC").save(tmp_path, "cc-new-client")
    issue_signing_certificate(ca, nppo_code="CC").save(tmp_path, "cc-signing")
    return Scene(
        runtime=runtime,
        actions=OperatorActions(control=RoutingControl()),
        registry=RegistryAdmin(nppos=runtime.nppos),
        number=number,
        certificates=tmp_path,
    )


async def _entries(runtime: HubRuntime) -> list[AuditEntry]:
    async def work(s: AsyncSession) -> list[AuditEntry]:
        return list((await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())

    return await run(runtime, work)


def _check(entry: AuditEntry, expected: Expected, number: str) -> None:
    assert entry.operator == expected.operator
    assert entry.action == expected.action
    assert entry.target == expected.target.format(number=number)
    assert entry.outcome == expected.outcome
    assert entry.channel == expected.channel
    assert entry.reason == "why"


@pytest.mark.parametrize("case", sorted(CASES))
async def test_each_action_is_audited_once(scene: Scene, case: str) -> None:
    act, expected = CASES[case]
    await run(scene.runtime, lambda s: act(scene, s))
    entries = await _entries(scene.runtime)
    assert len(entries) == 1, [(e.action, e.target) for e in entries]
    _check(entries[0], expected, scene.number)


async def test_resume_is_audited(scene: Scene) -> None:
    await run(
        scene.runtime, lambda s: scene.actions.pause(s, actor=ALICE, destination="PP", reason="a")
    )
    await run(
        scene.runtime, lambda s: scene.actions.resume(s, actor=BOB, destination="PP", reason="why")
    )
    entries = await _entries(scene.runtime)
    assert [e.action for e in entries] == ["pause", "resume"]
    _check(entries[1], Expected("bob", "resume", "PP", "done", "cli"), scene.number)


async def test_revoking_a_client_certificate_is_audited(
    scene: Scene, nppos: dict[str, AuthenticatedNppo]
) -> None:
    fingerprint = nppos["CC"].certificate_fingerprint
    await run(
        scene.runtime,
        lambda s: scene.registry.revoke_client_certificate(
            s, actor=ALICE, reason="why", fingerprint=fingerprint
        ),
    )
    entries = await _entries(scene.runtime)
    assert len(entries) == 1
    _check(
        entries[0],
        Expected("alice", "revoke_client_certificate", fingerprint, "done", "console"),
        scene.number,
    )


@pytest.mark.parametrize("action", ["mark_failed", "reroute"])
async def test_confirmation_is_audited_with_the_request(scene: Scene, action: str) -> None:
    action_id = await _requested(scene, action)
    await run(
        scene.runtime,
        lambda s: scene.actions.confirm(s, actor=BOB, action_id=action_id, reason="why"),
    )
    entries = await _entries(scene.runtime)
    assert [e.action for e in entries] == [f"request_{action}", f"confirm_{action}"]
    _check(
        entries[1],
        Expected("bob", f"confirm_{action}", "{number}", "confirmed", "cli"),
        scene.number,
    )
    assert entries[1].detail is not None
    assert f"action {action_id} requested by alice" in entries[1].detail


async def test_cancellation_is_audited(scene: Scene) -> None:
    action_id = await _requested(scene, "mark_failed")
    await run(
        scene.runtime,
        lambda s: scene.actions.cancel(s, actor=BOB, action_id=action_id, reason="why"),
    )
    entries = await _entries(scene.runtime)
    assert [e.action for e in entries] == ["request_mark_failed", "cancel_mark_failed"]
    _check(
        entries[1],
        Expected("bob", "cancel_mark_failed", "{number}", "cancelled", "cli"),
        scene.number,
    )


async def test_a_refused_action_leaves_no_audit_entry(scene: Scene) -> None:
    action_id = await _requested(scene, "mark_failed")
    with pytest.raises(SecondOperatorRequired):
        await run(
            scene.runtime,
            lambda s: scene.actions.confirm(s, actor=ALICE, action_id=action_id, reason="why"),
        )
    with pytest.raises(Conflict, match="pulls its box"):
        await run(
            scene.runtime,
            lambda s: scene.actions.pause(s, actor=ALICE, destination="BB", reason="why"),
        )
    assert [e.action for e in await _entries(scene.runtime)] == ["request_mark_failed"]
