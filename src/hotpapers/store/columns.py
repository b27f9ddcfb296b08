"""Column names shared by the SQLAlchemy store and the plain-SQL site reader (no imports)."""

__all__ = ["SCALARS"]

# The fields of a paper kept as columns of `papers`, besides its id.
SCALARS = ("title", "abstract", "abs_url", "pdf_url", "latest_version", "comments",
            "journal_ref", "doi", "submitted_at", "updated_at", "announced_on", "withdrawn")
