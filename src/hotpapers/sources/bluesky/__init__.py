"""Bluesky: search and post lookups on the AppView, and the live Jetstream firehose."""
