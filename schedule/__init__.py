"""Scheduling: the APScheduler loop that runs crawls, deadline evaluation and deliveries."""
