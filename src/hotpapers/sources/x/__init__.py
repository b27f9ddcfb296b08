"""X (Twitter) API v2: recent search for posts linking papers, lookups by id, and embeds."""
