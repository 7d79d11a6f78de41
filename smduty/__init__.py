"""smduty: the social media duty desk of a council communications team."""

__version__ = "0.1.0"
