"""Publishers: send a day's digest to a target (git, Bluesky, Mastodon, e-mail, webhooks)."""
