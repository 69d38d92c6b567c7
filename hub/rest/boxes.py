"""The caller's box: what waits for it, pulling everything at once, and acknowledging a batch."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from hub.deps import CurrentNppo, EnvelopeServiceDep, SessionDep, SigningServiceDep
from hub.errors import HubError
from hub.rest import schemas
from hub.rest.body_limit import BodyLimitedRoute
from hub.rest.errors import problem_of
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


@router.post(
    "/boxes/mine/acknowledgements",
    summary="Acknowledge several pulled envelopes at once",
    description=(
        "What `POST /envelopes/{number}/acknowledgement` does, for up to "
        f"{schemas.MAX_ACKNOWLEDGEMENTS_PER_BATCH} envelopes in one request and one "
        "transaction: what a national system sends after a pull. Each acknowledgement is "
        "judged on its own and answered in order, with the envelope's header (`status` 200) or "
        "the problem that refused it (`status` 404, 409 or 422), which changed nothing; the "
        "others still count. Repeating a batch is harmless. The SOAP contract acknowledges one "
        "envelope per call; this is the REST face's addition."
    ),
    response_model=schemas.AcknowledgementBatchResult,
    responses=problems(401, 413, 422, 500),
)
async def acknowledge_envelopes(
    batch: schemas.AcknowledgementBatch,
    request: Request,
    session: SessionDep,
    caller: CurrentNppo,
    envelopes: EnvelopeServiceDep,
) -> schemas.AcknowledgementBatchResult:
    outcomes = await envelopes.acknowledge_many(
        session,
        caller=caller,
        requests=[item.of_envelope(item.number) for item in batch.acknowledgements],
    )
    results = []
    for item, outcome in zip(batch.acknowledgements, outcomes, strict=True):
        if isinstance(outcome, HubError):
            problem = problem_of(outcome, instance=request.url.path)
            results.append(
                schemas.AcknowledgementResult(
                    number=item.number, status=problem.status, problem=problem
                )
            )
        else:
            results.append(
                schemas.AcknowledgementResult(
                    number=item.number, status=200, header=schemas.EnvelopeHeader.of(outcome)
                )
            )
    return schemas.AcknowledgementBatchResult(results=results)
