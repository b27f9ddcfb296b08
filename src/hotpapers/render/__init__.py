"""Renderers: pure functions from a post context to text; writers write atomically."""
