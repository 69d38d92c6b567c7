"""The hub's SOAP face: IDeliveryService as the live WSDL defines it, over the shared services.

``endpoints.router`` serves ``POST /hub/DeliveryService`` and ``GET /hub/DeliveryService?wsdl``;
``operations.OPERATIONS`` is the table of the 27 operations; ``codec`` maps XML to the domain
types; ``request`` reads the envelope; ``faults`` renders HubWebException; ``wsdl`` generates the
WSDL we serve from the table and ``schemas/xsd``.
"""
