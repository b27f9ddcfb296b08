"""The static site: `hotpapers site build` renders the store into HTML pages, feeds and an index."""
