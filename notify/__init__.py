"""Notifying: events, subscriptions, alerts through Apprise, and Atom feeds."""
