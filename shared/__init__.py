"""Mallflow common package: configuration, wire schema, geometry, model and data catalogues."""
