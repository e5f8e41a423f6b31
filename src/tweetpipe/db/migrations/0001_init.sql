-- tweetpipe schema, version 1: the loaded tweets, their authors and media, the loader's
-- offsets and dead letters, and the transformed tweets with the transform's watermark.
-- Runs with search_path set to the configured schema.

-- One row per tweet id: typed columns users query, plus the tweet as delivered (raw).
CREATE TABLE tweet_merge (
    tweet_id               bigint PRIMARY KEY,
    author_id              bigint,
    conversation_id        bigint,
    in_reply_to_user_id    bigint,
    author_username        text,
    author_name            text,
    author_verified_type   text,
    created_at             timestamptz,
    lang                   text,
    text                   text NOT NULL,
    source                 text,
    possibly_sensitive     boolean,
    reply_settings         text,
    retweet_count          integer,
    reply_count            integer,
    like_count             integer,
    quote_count            integer,
    bookmark_count         integer,
    impression_count       bigint,
    referenced_types       text[],
    referenced_ids         bigint[],
    hashtags               text[],
    mentions               text[],
    cashtags               text[],
    urls                   text[],
    media_keys             text[],
    media_types            text[],
    place_id               text,
    coordinates            double precision[],
    withheld               jsonb,
    edit_history_tweet_ids bigint[],
    edit_root_id           bigint,
    is_current             boolean NOT NULL DEFAULT true,
    matching_rules         jsonb,
    errors                 jsonb,
    collect_source         text,
    collected_at           timestamptz,
    kafka_topic            text,
    kafka_partition        integer,
    kafka_offset           bigint,
    loaded_at              timestamptz NOT NULL DEFAULT now(),
    load_seq               bigint NOT NULL,
    raw                    jsonb NOT NULL
);
CREATE SEQUENCE tweet_load_seq AS bigint;
CREATE INDEX tweet_merge_load_seq ON tweet_merge (load_seq);
CREATE INDEX tweet_merge_created_at ON tweet_merge (created_at);
CREATE INDEX tweet_merge_author ON tweet_merge (author_id);
CREATE INDEX tweet_merge_edit_root ON tweet_merge (edit_root_id);

-- Latest known profile per user.
CREATE TABLE tweet_author (
    user_id         bigint PRIMARY KEY,
    username        text,
    name            text,
    verified        boolean,
    verified_type   text,
    followers_count integer,
    following_count integer,
    tweet_count     integer,
    created_at      timestamptz,
    location        text,
    description     text,
    seen_at         timestamptz NOT NULL,
    raw             jsonb NOT NULL
);

CREATE TABLE tweet_media (
    media_key   text PRIMARY KEY,
    type        text,
    url         text,
    preview_url text,
    width       integer,
    height      integer,
    duration_ms integer,
    view_count  bigint,
    alt_text    text,
    seen_at     timestamptz NOT NULL,
    raw         jsonb NOT NULL
);

CREATE TABLE tweet_place (
    place_id     text PRIMARY KEY,
    full_name    text,
    name         text,
    country      text,
    country_code text,
    place_type   text,
    bbox         double precision[],
    seen_at      timestamptz NOT NULL,
    raw          jsonb NOT NULL
);

CREATE TABLE tweet_poll (
    poll_id          text PRIMARY KEY,
    voting_status    text,
    end_datetime     timestamptz,
    duration_minutes integer,
    options          jsonb,
    seen_at          timestamptz NOT NULL,
    raw              jsonb NOT NULL
);

-- Tweets delivered in `includes` for tweets of tweet_merge: the ones they reference (quoted,
-- retweeted, replied to) and the earlier versions of edited tweets.
CREATE TABLE tweet_included (
    tweet_id     bigint PRIMARY KEY,
    author_id    bigint,
    created_at   timestamptz,
    text         text,
    edit_root_id bigint,
    seen_at      timestamptz NOT NULL,
    raw          jsonb NOT NULL
);
CREATE INDEX tweet_included_edit_root ON tweet_included (edit_root_id);

-- Exactly-once: the next offset to read, stored in the same transaction as the rows.
CREATE TABLE kafka_offsets (
    group_id    text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- Records that could not be parsed, validated or stored, with their Kafka coordinates.
CREATE TABLE dead_letters (
    id              bigserial PRIMARY KEY,
    reason          text NOT NULL,
    detail          text,
    kafka_topic     text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset    bigint NOT NULL,
    kafka_key       bytea,
    raw             bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kafka_topic, kafka_partition, kafka_offset)
);
CREATE INDEX dead_letters_reason ON dead_letters (reason);

-- One row per tweet id, written by the Spark transform.
CREATE TABLE tweet_transformed (
    tweet_id          bigint PRIMARY KEY,
    created_at        timestamptz,
    minute            timestamptz,
    author_id         bigint,
    author_username   text,
    lang              text,
    text              text,
    clean_text        text,
    hashtags          text[],
    mentions          text[],
    cashtags          text[],
    urls              text[],
    url_domains       text[],
    emojis            text[],
    is_retweet        boolean,
    is_reply          boolean,
    is_quote          boolean,
    has_media         boolean,
    word_count        integer,
    char_count        integer,
    sentiment         double precision,
    sentiment_label   text,
    load_seq          bigint NOT NULL,
    transform_version integer NOT NULL,
    transformed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tweet_transformed_minute ON tweet_transformed (minute);

-- How far each transform job has read tweet_merge (by load sequence, never tweet time).
CREATE TABLE transform_watermarks (
    job        text PRIMARY KEY,
    load_seq   bigint NOT NULL,
    version    integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
