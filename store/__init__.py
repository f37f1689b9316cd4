"""Persistence: SQLModel tables, the SQL implementation of the core's ports, and migrations."""
