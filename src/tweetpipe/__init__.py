"""tweetpipe: X API v2 -> Kafka -> PostgreSQL -> PySpark, exactly once, on real services.

Read the stages top to bottom: `collect` (X API, replay) and `merge` (includes onto tweets) ->
`stream` (Kafka producer) -> `load` with `normalize` and `sink` (Kafka -> PostgreSQL, exactly
once) -> `transform` (PySpark: tweet_merge -> tweet_transformed, trends).
"""

__version__ = "0.1.0"
