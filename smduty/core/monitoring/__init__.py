"""Mention monitoring: sources, fetching feeds, reading export files, ingest into mentions,
the poller and the flag rules."""
