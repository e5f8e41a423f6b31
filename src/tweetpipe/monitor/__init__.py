"""What a running pipeline is doing, for people and for monitoring systems.

`reports`: each running component (collector, loader, transform) writes its counters to a
small JSON file every second. `facts`: one snapshot of everything (services, rows, lag per
partition, dead letters, the transform's watermark, the components' reports), the data behind
`tweetpipe status --json`, the dashboard's health panel and `/metrics`. `prometheus`: that
snapshot in Prometheus' text format.
"""
