"""Roles and what each may do. One role per user; the checks live here, nowhere else."""

import enum

from generic_national_system.i18n import N_


class Role(enum.StrEnum):
    APPLICANT = "applicant"  # an exporter or agent entering certificate data
    INSPECTOR = "inspector"  # checks the consignment: returns or approves
    OFFICER = "officer"  # authorising officer: the only one who issues (signs) and sends
    ADMIN = "admin"  # tenant administrator: users and tenant settings, reads certificates


ROLE_LABELS = {
    Role.APPLICANT: N_("Applicant"),
    Role.INSPECTOR: N_("Inspector"),
    Role.OFFICER: N_("Authorising officer"),
    Role.ADMIN: N_("Tenant administrator"),
}


class Permission(enum.StrEnum):
    EDIT_DRAFT = "edit_draft"
    SUBMIT = "submit"
    REVIEW = "review"  # return for correction, approve
    ISSUE = "issue"  # issue (sign), send, withdraw, replace
    ADMINISTER = "administer"
    TRACK = "track"  # ask the hub what became of a sent certificate
    RECEIVE = "receive"  # fetch, read and print certificates received through the hub
    ACKNOWLEDGE = "acknowledge"  # acknowledge a received certificate, send the country response
    REPORT = "report"  # counts and lists of exports and imports, CSV


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.APPLICANT: frozenset({Permission.EDIT_DRAFT, Permission.SUBMIT, Permission.TRACK}),
    Role.INSPECTOR: frozenset(
        {
            Permission.REVIEW,
            Permission.TRACK,
            Permission.RECEIVE,
            Permission.ACKNOWLEDGE,
            Permission.REPORT,
        }
    ),
    Role.OFFICER: frozenset(
        {
            Permission.EDIT_DRAFT,
            Permission.SUBMIT,
            Permission.REVIEW,
            Permission.ISSUE,
            Permission.TRACK,
            Permission.RECEIVE,
            Permission.REPORT,
        }
    ),
    Role.ADMIN: frozenset({Permission.ADMINISTER, Permission.REPORT}),
}


def can(role: Role, permission: Permission) -> bool:
    return permission in _GRANTS[role]
