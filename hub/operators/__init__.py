"""Operators: the delivery-queue console, its actions with audit, and the operator CLI."""
