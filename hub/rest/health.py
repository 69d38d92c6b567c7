"""Liveness: the process answers. Readiness (database, broker) is a separate check."""

from fastapi import APIRouter

from hub.rest import schemas
from hub.rest.body_limit import BodyLimitedRoute

router = APIRouter(route_class=BodyLimitedRoute, tags=["operations"])


@router.get(
    "/health",
    summary="Liveness",
    description="Answers 200 while the process serves requests. Needs no client certificate.",
    response_model=schemas.Health,
)
async def health() -> schemas.Health:
    return schemas.Health()
