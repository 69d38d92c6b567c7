"""The SOAP face: ``POST /hub/DeliveryService`` (IDeliveryService) and ``GET ...?wsdl``.

One request = read the body (bounded), find the operation element, authenticate the caller,
run the operation's handler in one unit of work (committed when the handler and the response
serialization succeed, rolled back otherwise), answer. Every failure on the way is a SOAP fault
(see `hub.soap.faults` for the codes and why faults go out with HTTP 500).
"""

import logging
from typing import Final

from fastapi import APIRouter, Request, Response

from ephyto_core._safexml import XmlLimits
from hub.database import unit_of_work
from hub.deps import RuntimeDep, get_current_nppo
from hub.rest.body_limit import read_body_within
from hub.soap.codec import soap_envelope
from hub.soap.faults import (
    FAULT_HTTP_STATUS,
    SOAP_CONTENT_TYPE,
    FaultCode,
    fault_for,
    render_fault,
)
from hub.soap.operations import OperationContext, find_operation
from hub.soap.request import operation_element
from hub.soap.wsdl import wsdl_document

logger = logging.getLogger(__name__)

#: The live hub's path; national systems change only the host.
SOAP_PATH: Final = "/hub/DeliveryService"

router = APIRouter(tags=["SOAP IDeliveryService"])


@router.get(SOAP_PATH, include_in_schema=False)
async def service_description(request: Request, runtime: RuntimeDep) -> Response:
    # Clients ask for ?wsdl or ?WSDL; any spelling of that key will do.
    if any(key.lower() == "wsdl" for key in request.query_params):
        address = runtime.settings.public_url.rstrip("/") + SOAP_PATH
        return Response(wsdl_document(address), media_type=SOAP_CONTENT_TYPE)
    return Response(
        "IDeliveryService (SOAP 1.1). POST SOAP requests here; the WSDL is at ?wsdl.\n",
        media_type="text/plain; charset=utf-8",
    )


@router.post(SOAP_PATH, include_in_schema=False)
async def call_operation(request: Request, runtime: RuntimeDep) -> Response:
    operation_name = "(unknown)"
    try:
        body = await read_body_within(request, limit=runtime.settings.max_request_bytes)
        element = operation_element(
            body, limits=XmlLimits(max_bytes=runtime.settings.max_request_bytes)
        )
        operation = find_operation(element)
        operation_name = operation.name
        async with unit_of_work(runtime.sessionmaker) as session:
            caller = await get_current_nppo(request, runtime, session)
            context = OperationContext(
                session=session,
                caller=caller,
                envelopes=runtime.envelopes,
                nppos=runtime.nppos,
                codelists=runtime.codelists,
                signing=runtime.signing,
            )
            result = await operation.handle(context, element)
            # Serialized inside the unit of work: a response that cannot be written rolls back.
            answer = soap_envelope(result, headers=context.soap_headers)
    except Exception as exc:  # every failure becomes a fault; fault_for logs the unexpected
        fault = fault_for(exc)
        if fault.code is not FaultCode.SERVER:
            logger.info("SOAP %s refused: %s", operation_name, fault)
        return Response(
            render_fault(fault), status_code=FAULT_HTTP_STATUS, media_type=SOAP_CONTENT_TYPE
        )
    return Response(answer, media_type=SOAP_CONTENT_TYPE)
