"""Accuracy of the cloud's own decisions, scored against ground truth."""
