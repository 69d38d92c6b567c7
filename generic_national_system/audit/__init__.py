"""The audit log: who did what, when, to which certificate or account."""
