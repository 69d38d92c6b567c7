"""Tenants (one NPPO each), their users and roles, and login sessions."""
