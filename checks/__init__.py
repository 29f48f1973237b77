"""Checking stored reports: deadlines and compliance verdicts (who published on time, late, or
not at all), each resting on the dates and observations that decided it."""
