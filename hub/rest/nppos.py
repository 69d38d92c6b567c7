"""The registry as national systems read it: their own profile, every NPPO, the channels."""

from fastapi import APIRouter, Depends

from hub.deps import CurrentNppo, NppoServiceDep, SessionDep, get_current_nppo
from hub.rest import schemas
from hub.rest.body_limit import BodyLimitedRoute
from hub.rest.problems import problems

# Every route answers only NPPOs with a valid client certificate, like the SOAP operations.
router = APIRouter(
    route_class=BodyLimitedRoute, tags=["registry"], dependencies=[Depends(get_current_nppo)]
)


@router.get(
    "/nppos/me",
    summary="The caller's own profile",
    description="What the hub knows about the calling NPPO (the contract's GetProfile).",
    response_model=schemas.NppoProfile,
    responses=problems(401, 500),
)
async def my_profile(
    session: SessionDep, caller: CurrentNppo, nppos: NppoServiceDep
) -> schemas.NppoProfile:
    profile = await nppos.profile(session, code=caller.code)
    return schemas.NppoProfile.model_validate(profile)


@router.get(
    "/nppos",
    summary="Every active NPPO",
    description=(
        "Profiles of the NPPOs and channels on the hub, with the documents each may exchange "
        "and its current signing certificate (the contract's GetActiveNppos)."
    ),
    response_model=list[schemas.NppoProfile],
    responses=problems(401, 500),
)
async def active_nppos(session: SessionDep, nppos: NppoServiceDep) -> list[schemas.NppoProfile]:
    return [schemas.NppoProfile.model_validate(p) for p in await nppos.active_nppos(session)]


@router.get(
    "/channels",
    summary="The available channels",
    description="Systems that send or receive for countries (the contract's GetAvailableChannels).",
    response_model=list[schemas.Channel],
    responses=problems(401, 500),
)
async def channels(session: SessionDep, nppos: NppoServiceDep) -> list[schemas.Channel]:
    return [schemas.Channel.model_validate(c) for c in await nppos.channels(session)]
