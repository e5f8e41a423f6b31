-- Trends per minute of tweet time, recomputed from tweet_transformed for every minute a
-- transform run touches (so late tweets update their minute).
CREATE TABLE trend_minute (
    minute         timestamptz PRIMARY KEY,
    tweets         integer NOT NULL,
    scored         integer NOT NULL,
    mean_sentiment double precision,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE trend_hashtag (
    minute  timestamptz NOT NULL,
    hashtag text NOT NULL,
    tweets  integer NOT NULL,
    PRIMARY KEY (minute, hashtag)
);

CREATE TABLE trend_mention (
    minute  timestamptz NOT NULL,
    mention text NOT NULL,
    tweets  integer NOT NULL,
    PRIMARY KEY (minute, mention)
);

-- The streaming transform's ledger: a micro-batch id is committed once, with its rows.
CREATE TABLE transform_batches (
    job          text NOT NULL,
    batch_id     bigint NOT NULL,
    rows         integer NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job, batch_id)
);
