"""The export workflow as a table: which action moves a certificate from which state, and who
may take it. The service consults only this table, and so do the pages that show buttons.

    draft -> submitted -> approved -> issued -> sent -> delivered | delivered_with_warnings | failed
               ^   |
               |   v
             returned (for correction)

A replacement is a new certificate linked to the old one; the old one becomes `replaced` when
the replacement is issued. Withdrawal tells the importer (status 40) if the certificate was sent.
"""

import enum
from dataclasses import dataclass

from generic_national_system.accounts.roles import Permission
from generic_national_system.i18n import N_


class State(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    ISSUED = "issued"
    SENT = "sent"
    DELIVERED = "delivered"
    DELIVERED_WITH_WARNINGS = "delivered_with_warnings"
    FAILED = "failed"
    REPLACED = "replaced"
    WITHDRAWN = "withdrawn"


STATE_LABELS = {
    State.DRAFT: N_("Draft"),
    State.SUBMITTED: N_("Submitted"),
    State.RETURNED: N_("Returned for correction"),
    State.APPROVED: N_("Approved"),
    State.ISSUED: N_("Issued"),
    State.SENT: N_("Sent"),
    State.DELIVERED: N_("Delivered"),
    State.DELIVERED_WITH_WARNINGS: N_("Delivered with warnings"),
    State.FAILED: N_("Delivery failed"),
    State.REPLACED: N_("Replaced"),
    State.WITHDRAWN: N_("Withdrawn"),
}

#: States whose data can still be edited.
EDITABLE = frozenset({State.DRAFT, State.RETURNED})
#: States in which the certificate exists as an issued document.
ISSUED_STATES = frozenset(
    {State.ISSUED, State.SENT, State.DELIVERED, State.DELIVERED_WITH_WARNINGS, State.FAILED}
)


class Action(enum.StrEnum):
    SUBMIT = "submit"
    RETURN = "return"
    APPROVE = "approve"
    ISSUE = "issue"
    SEND = "send"
    REFRESH = "refresh"
    REPLACE = "replace"
    WITHDRAW = "withdraw"


@dataclass(frozen=True, slots=True)
class Rule:
    sources: frozenset[State]
    permission: Permission
    label: str
    #: A short explanation the page shows next to the button.
    help: str


RULES: dict[Action, Rule] = {
    Action.SUBMIT: Rule(
        frozenset({State.DRAFT, State.RETURNED}),
        Permission.SUBMIT,
        N_("Submit for inspection"),
        N_("Send the application to the inspectors. It cannot be edited while they review it."),
    ),
    Action.RETURN: Rule(
        frozenset({State.SUBMITTED}),
        Permission.REVIEW,
        N_("Return for correction"),
        N_("Give it back to the applicant, saying what to correct."),
    ),
    Action.APPROVE: Rule(
        frozenset({State.SUBMITTED}),
        Permission.REVIEW,
        N_("Approve"),
        N_("The consignment meets the requirements: ready to be issued."),
    ),
    Action.ISSUE: Rule(
        frozenset({State.APPROVED}),
        Permission.ISSUE,
        N_("Issue the certificate"),
        N_("Build, check and sign the electronic certificate. Its content cannot change after."),
    ),
    Action.SEND: Rule(
        frozenset({State.ISSUED}),
        Permission.ISSUE,
        N_("Send through the hub"),
        N_("Deliver the certificate to the importing country through the ePhyto hub."),
    ),
    Action.REFRESH: Rule(
        frozenset({State.SENT}),
        Permission.TRACK,
        N_("Check delivery"),
        N_("Ask the hub whether the importing country has received it."),
    ),
    Action.REPLACE: Rule(
        frozenset(ISSUED_STATES),
        Permission.ISSUE,
        N_("Replace"),
        N_("Start a new certificate that replaces this one once it is issued."),
    ),
    Action.WITHDRAW: Rule(
        frozenset(ISSUED_STATES),
        Permission.ISSUE,
        N_("Withdraw"),
        N_("Cancel the certificate; if it was sent, the importing country is told."),
    ),
}
