"""A national system's view: a zeep client generated from the LIVE hub WSDL, used offline.

`request_from` builds the exact bytes such a client would POST; `zeep_reads` is what the same
client makes of an HTTP answer (a value, or a raised `zeep.exceptions.Fault`).
"""

from typing import Any

import requests
import zeep
from lxml import etree

from hub.soap.faults import SOAP_CONTENT_TYPE


def request_from(client: zeep.Client, operation: str, **arguments: Any) -> bytes:
    return etree.tostring(client.create_message(client.service, operation, **arguments))


def zeep_reads(client: zeep.Client, operation: str, answer: bytes, *, status: int = 200) -> Any:
    response = requests.Response()
    response.status_code = status
    response._content = answer
    response.headers["Content-Type"] = SOAP_CONTENT_TYPE
    response.encoding = "utf-8"
    binding = client.service._binding
    return binding.process_reply(client, binding.get(operation), response)


def hub_web_exception(client: zeep.Client, fault: zeep.exceptions.Fault) -> Any:
    """The fault's detail, parsed as the live schema's HubWebException."""
    element = client.get_element("{http://ephyto.ippc.int/}HubWebException")
    return element.parse(fault.detail[0], client.wsdl.types)
