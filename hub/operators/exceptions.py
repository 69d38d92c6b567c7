"""Operator errors: domain errors of the hub tree, so the CLI and console render them alike."""

from hub.errors import Conflict, Forbidden, InvalidRequest


class ReasonRequired(InvalidRequest):
    code = "reason_required"


class SecondOperatorRequired(Forbidden):
    """The operator who requested a destructive action may not also confirm it."""

    code = "second_operator_required"


class ActionNotPending(Conflict):
    code = "action_not_pending"
