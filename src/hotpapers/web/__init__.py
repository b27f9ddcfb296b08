"""The web app of `hotpapers serve`: the live board, paper pages and the JSON API over a
store read read-only (web/app.py: `create_app`)."""
