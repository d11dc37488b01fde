"""Formats the edge and cloud evaluations exchange (they never import each other)."""
