"""The database: the SQLAlchemy models (models.py), the Alembic migrations, and one module of
data functions per kind of row: sessions, tasks (with the guarded status moves),
interactions (a task's numbered events), testcases, transcripts, daily_spend and
credential_rejections. transactions.py says who commits (`unit_of_work`). Nothing here
imports the domain, the API or the agent: only the vocabulary and redaction below them."""
