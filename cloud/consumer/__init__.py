"""The Kafka consumer-group service: decode, validate, dead-letter, apply, then commit."""
