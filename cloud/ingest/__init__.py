"""Applying validated envelopes to storage: idempotent, one transaction per batch."""
