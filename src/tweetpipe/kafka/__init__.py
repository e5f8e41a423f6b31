"""Thin wrappers around confluent-kafka: configuration, the tweet producer, administration."""

from tweetpipe.kafka.admin import ensure_topic, partition_watermarks, watermarks
from tweetpipe.kafka.configuration import KAFKA_LOG, client_config
from tweetpipe.kafka.producer import TweetProducer, producer_config

__all__ = ["KAFKA_LOG", "TweetProducer", "client_config", "ensure_topic", "partition_watermarks",
           "producer_config", "watermarks"]
