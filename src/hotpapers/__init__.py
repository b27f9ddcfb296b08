"""hotpapers: find the arXiv papers researchers are talking about and publish a daily digest."""

__version__ = "0.1.0"
