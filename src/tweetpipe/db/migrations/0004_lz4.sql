-- The tweets' JSON and text columns are compressed with lz4 instead of pglz, PostgreSQL's
-- default, where the server has lz4 (PostgreSQL 14 and later, built with it: Debian's, the
-- official images and RDS are). A stored tweet is over 2 kB, so PostgreSQL compresses it:
-- with pglz that was a quarter of the server's CPU time per loaded tweet. lz4 compresses a
-- little less. Values stored before keep their compression; new ones get lz4.
DO $$
DECLARE
    col record;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_settings
                   WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        RAISE NOTICE 'this PostgreSQL has no lz4: the tweets stay compressed with pglz';
        RETURN;
    END IF;
    FOR col IN
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema()
          AND table_name IN ('tweet_merge', 'tweet_author', 'tweet_media', 'tweet_place',
                             'tweet_poll', 'tweet_included', 'api_errors', 'dead_letters')
          AND data_type IN ('jsonb', 'text', 'bytea')
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET COMPRESSION lz4',
                       col.table_name, col.column_name);
    END LOOP;
END
$$;
