"""The caller's box: what waits for it, and pulling everything at once."""

from typing import Annotated

from fastapi import APIRouter, Query

from hub.deps import CurrentNppo, EnvelopeServiceDep, SessionDep, SigningServiceDep
from hub.rest import schemas
from hub.rest.body_limit import BodyLimitedRoute
from hub.rest.problems import problems

router = APIRouter(route_class=BodyLimitedRoute, tags=["box"])


@router.get(
    "/boxes/mine/envelopes",
    summary="List the envelopes waiting in the caller's box",
    description=(
        "Headers of every envelope waiting for the caller (pulled or not, until acknowledged), "
        "oldest first. `country_code` keeps those addressed to that country, for a channel "
        "that receives for several."
    ),
    response_model=list[schemas.EnvelopeHeader],
    responses=problems(401, 422, 500),
)
async def waiting_envelopes(
    session: SessionDep,
    caller: CurrentNppo,
    envelopes: EnvelopeServiceDep,
    country_code: Annotated[
        schemas.NppoCode | None, Query(description="Only envelopes addressed to this code.")
    ] = None,
) -> list[schemas.EnvelopeHeader]:
    headers = await envelopes.waiting_headers(session, caller=caller, country_code=country_code)
    return [schemas.EnvelopeHeader.of(header) for header in headers]


@router.post(
    "/boxes/mine/pull",
    summary="Pull every envelope waiting in the caller's box",
    description=(
        "Download the waiting envelopes, oldest first, up to the hub's per-call limits; the "
        "rest are there for the next call. Each stays listed until acknowledged."
    ),
    response_model=list[schemas.Envelope],
    responses=problems(401, 413, 500),
)
async def pull_all_envelopes(
    session: SessionDep,
    caller: CurrentNppo,
    envelopes: EnvelopeServiceDep,
    signing: SigningServiceDep,
) -> list[schemas.Envelope]:
    pulled = await envelopes.pull_all(session, caller=caller)
    numbers = [e.header.hub_delivery_number for e in pulled if e.header.hub_delivery_number]
    seals = await signing.seals_by_number(session, numbers)
    return [
        schemas.Envelope.of(envelope, seal=seals.get(envelope.header.hub_delivery_number or ""))
        for envelope in pulled
    ]
