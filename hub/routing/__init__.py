"""Routing over a broker: the transactional outbox, per-destination boxes, push delivery.

The database is the source of truth, the broker (RabbitMQ, or the in-process broker when none
is configured) the routing fabric. See hub/routing/topology.py for the broker's shape and the
README's "Routing" section for the whole path of an envelope.
"""
