"""PostgreSQL: connections, versioned migrations (`db/migrations/NNNN_name.sql`), the upsert."""

from tweetpipe.db.connection import connect, migrate, migrations, table_counts

__all__ = ["connect", "migrate", "migrations", "table_counts"]
