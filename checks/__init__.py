"""Checks of a parsed report: the format's identities, the narrative, and across years."""
