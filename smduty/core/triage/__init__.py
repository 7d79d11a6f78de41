"""Triage: the queue of flagged mentions, their outcomes, the response assessment, response
targets and the moderation log."""
