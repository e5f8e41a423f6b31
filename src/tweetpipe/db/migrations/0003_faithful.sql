-- tweetpipe schema, version 3: faithful to X end to end.
--  * freshness by X's time: tweet_merge.served_at (when X served the copy: the response's
--    Date, a recording's retrieved_at, else the time of collection) decides which copy wins;
--    the side tables' seen_at take the same time from now on;
--  * what the transform analyses: a retweet's original's full text and entities (X cuts the
--    retweet's own text), a long post's note_tweet text and entities;
--  * api_errors: partial errors of X's responses that concern no tweet of theirs.
-- Runs with search_path set to the configured schema.

ALTER TABLE tweet_merge
    ADD COLUMN served_at         timestamptz,
    ADD COLUMN analysed_text     text,
    ADD COLUMN analysis_text     text,
    ADD COLUMN analysis_hashtags text[],
    ADD COLUMN analysis_mentions text[],
    ADD COLUMN analysis_cashtags text[],
    ADD COLUMN analysis_urls     text[];

-- Rows loaded before: the same columns computed from what they kept (raw, and the retweeted
-- original in tweet_included), as the loader computes them now.
CREATE FUNCTION pg_temp.text_entities(tweet jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(tweet #> '{note_tweet,text}') = 'string'
                THEN coalesce(tweet #> '{note_tweet,entities}', '{}')
                ELSE coalesce(tweet -> 'entities', '{}') END
$$;
CREATE FUNCTION pg_temp.entity_values(entities jsonb, kind text, field text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(CASE WHEN field = 'expanded_url'
                                   THEN coalesce(e ->> 'expanded_url', e ->> 'url')
                                   ELSE e ->> field END ORDER BY n), '{}')
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(entities -> kind) = 'array'
                                   THEN entities -> kind ELSE '[]' END) WITH ORDINALITY AS x(e, n)
    WHERE jsonb_typeof(e) = 'object' AND (field = 'expanded_url' OR e ? field)
$$;

UPDATE tweet_merge SET
    hashtags = pg_temp.entity_values(pg_temp.text_entities(raw), 'hashtags', 'tag'),
    mentions = pg_temp.entity_values(pg_temp.text_entities(raw), 'mentions', 'username'),
    cashtags = pg_temp.entity_values(pg_temp.text_entities(raw), 'cashtags', 'tag'),
    urls = pg_temp.entity_values(pg_temp.text_entities(raw), 'urls', 'expanded_url')
WHERE jsonb_typeof(raw #> '{note_tweet,text}') = 'string';

UPDATE tweet_included SET text = raw #>> '{note_tweet,text}'
WHERE jsonb_typeof(raw #> '{note_tweet,text}') = 'string';

UPDATE tweet_merge m SET
    served_at = coalesce(m.collected_at, m.loaded_at),
    analysed_text = CASE WHEN a.original IS NOT NULL THEN 'retweeted_original'
                         WHEN a.retweet IS NOT NULL THEN 'truncated_retweet'
                         ELSE 'own' END,
    analysis_text = coalesce(a.original #>> '{note_tweet,text}', a.original ->> 'text', m.text),
    analysis_hashtags = pg_temp.entity_values(a.entities, 'hashtags', 'tag'),
    analysis_mentions = pg_temp.entity_values(a.entities, 'mentions', 'username'),
    analysis_cashtags = pg_temp.entity_values(a.entities, 'cashtags', 'tag'),
    analysis_urls = pg_temp.entity_values(a.entities, 'urls', 'expanded_url')
FROM (
    SELECT t.tweet_id, r.retweet, o.raw AS original,
           pg_temp.text_entities(coalesce(o.raw, t.raw)) AS entities
    FROM tweet_merge t
    LEFT JOIN LATERAL (
        SELECT (ref ->> 'id') AS retweet
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(t.raw -> 'referenced_tweets') = 'array'
                                       THEN t.raw -> 'referenced_tweets' ELSE '[]' END) ref
        WHERE jsonb_typeof(ref) = 'object' AND ref ->> 'type' = 'retweeted' LIMIT 1
    ) r ON true
    LEFT JOIN tweet_included o
        ON o.tweet_id::text = r.retweet
        AND jsonb_typeof(coalesce(o.raw #> '{note_tweet,text}', o.raw -> 'text')) = 'string'
) a
WHERE a.tweet_id = m.tweet_id;

ALTER TABLE tweet_merge ALTER COLUMN served_at SET NOT NULL;

-- Which text tweet_transformed analysed: 'own', 'retweeted_original' or 'truncated_retweet'.
ALTER TABLE tweet_transformed ADD COLUMN analysed_text text;

-- Partial errors that concern no tweet of their response: one row per error and time X served
-- it (error_key: the sha256 of its JSON, keys sorted), so a replayed or re-read error is one
-- row; with the request it came from and where its message was in Kafka.
CREATE TABLE api_errors (
    served_at       timestamptz NOT NULL,
    error_key       text NOT NULL,
    title           text,
    detail          text,
    type            text,
    resource_type   text,
    resource_id     text,
    parameter       text,
    value           text,
    collect_source  text,
    origin          text,
    url             text,
    collected_at    timestamptz,
    kafka_topic     text,
    kafka_partition integer,
    kafka_offset    bigint,
    loaded_at       timestamptz NOT NULL DEFAULT now(),
    raw             jsonb NOT NULL,
    PRIMARY KEY (served_at, error_key)
);
CREATE INDEX api_errors_value ON api_errors (lower(value));
