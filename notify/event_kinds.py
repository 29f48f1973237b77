"""The kinds of event nianbao records and alerts on, in a module of their own so that the
command line can offer them without importing the database layer."""

EVENT_KINDS = (
    "new_report", "revised_report", "late_report", "missing_report", "failed_checks",
    "site_unreachable", "site_blocked", "column_moved",
)
