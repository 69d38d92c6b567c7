"""The REST/JSON face: one router, mounted by `hub.app` at /api/v1.

A modern face over the services the SOAP face uses; every route authenticates the caller by its
client certificate (except /health) and answers errors as problem+json (`hub.rest.errors`).
"""

from fastapi import APIRouter

from hub.rest import boxes, codelists, envelopes, health, nppos, signatures, validation

router = APIRouter()
for module in (envelopes, boxes, signatures, validation, nppos, codelists, health):
    router.include_router(module.router)
