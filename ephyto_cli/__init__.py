"""The ``ephyto`` command line: one entry point, a subcommand group per area."""
