"""Cloud side: Kafka consumers, cross-camera stitching, analytics, storage, API and dashboard."""
