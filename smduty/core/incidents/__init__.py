"""Incidents: the escalation playbook run step by step, its log and record, the posts stop and
who to contact."""
