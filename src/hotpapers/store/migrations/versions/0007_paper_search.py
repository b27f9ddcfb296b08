"""Full-text search over the papers (store/fulltext.py). SQLite: the FTS5 table paper_search
(id, title, abstract, authors; Porter stems, diacritics folded), filled from the stored
papers. PostgreSQL: GIN indexes over `to_tsvector` of the papers' title and abstract and of
their authors' names, which keep themselves current.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DOCUMENTS = (
    "SELECT p.id, coalesce(p.title, ''), coalesce(p.abstract, ''), coalesce(("
    "SELECT group_concat(name, ', ') FROM (SELECT name FROM paper_authors a "
    "WHERE a.paper_id = p.id ORDER BY a.position)), '') FROM papers p")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE paper_search USING fts5(paper_id, title, abstract, "
                   "authors, tokenize = 'porter unicode61 remove_diacritics 2')")
        op.execute(f"INSERT INTO paper_search (paper_id, title, abstract, authors) {DOCUMENTS}")
        return
    op.execute("CREATE INDEX ix_papers_search ON papers USING gin (to_tsvector("
               "'english'::regconfig, coalesce(title, '') || ' ' || coalesce(abstract, '')))")
    op.execute("CREATE INDEX ix_paper_authors_search ON paper_authors USING gin ("
               "to_tsvector('simple'::regconfig, name))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE paper_search")
        return
    op.execute("DROP INDEX ix_paper_authors_search")
    op.execute("DROP INDEX ix_papers_search")
