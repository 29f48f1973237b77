"""Spiders driven by config/sites.yaml."""
