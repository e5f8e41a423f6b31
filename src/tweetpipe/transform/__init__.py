"""tweet_merge -> tweet_transformed with PySpark: batch job, streaming job, transforms, trends."""
