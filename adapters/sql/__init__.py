"""The reference order store: a lookup-friendly schema on SQLite or PostgreSQL."""
