"""What a received certificate's states and the inspector's decisions are called on the pages."""

from generic_national_system.i18n import N_

RECEIVED_LABELS = {
    "received": N_("Received"),
    "acknowledged": N_("Acknowledged"),
    "acknowledged_with_warnings": N_("Acknowledged with warnings"),
    "not_readable": N_("Not readable"),
    "accepted": N_("Accepted"),
    "rejected": N_("Rejected"),
}
