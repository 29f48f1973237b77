"""Monitoring: scheduled crawls, compliance deadlines, events and alerts."""
