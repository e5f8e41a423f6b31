"""`tweetpipe run`: collect, load and transform together, supervised, until stopped.

`supervisor` starts each component (`components`) as a process of its own, restarts a crashed
one with backoff, and stops them in order: the collector first, then the loader once Kafka is
drained, then the transform once it has caught up with the loader. Each component reports its
counters (`tweetpipe.monitor.reports`); the dashboard and `/metrics` show them.
"""
