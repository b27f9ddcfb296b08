"""The Alembic revision this code expects the store at: the newest migration's id."""

HEAD_REVISION = "0008"  # update with each new migration (tests/test_startup.py checks it)
