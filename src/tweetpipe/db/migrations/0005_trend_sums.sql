-- The transform keeps the trends up to date by what each run changes (`transform/trends.py`)
-- instead of recounting every minute a run touches: a minute's mean sentiment is its sum over
-- its scored tweets, kept beside it.
ALTER TABLE trend_minute ADD COLUMN sentiment_sum double precision NOT NULL DEFAULT 0;
UPDATE trend_minute SET sentiment_sum = coalesce(mean_sentiment * scored, 0);
