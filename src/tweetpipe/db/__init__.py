"""PostgreSQL: connections, versioned migrations (`db/migrations/NNNN_name.sql`), the upsert."""

from tweetpipe.db.connection import connect, table_counts
from tweetpipe.db.migrate import Migration, migrate, migrations

__all__ = ["Migration", "connect", "migrate", "migrations", "table_counts"]
