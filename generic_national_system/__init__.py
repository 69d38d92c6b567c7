"""GeNS, the Generic ePhyto National System: a multi-tenant web application and hub client.

A separate app from the hub: it talks to the hub only through the hub's public REST contract
(`hub_client`), with each tenant's client certificate, like any national system.
"""
