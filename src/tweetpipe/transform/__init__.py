"""tweet_merge -> tweet_transformed with PySpark: the batch job, the streaming job, the transforms."""
