"""Metrics, health checks and structured logs: what operators watch the hub with."""
