"""Offline evaluation: MOT-format files and ground-truth reference analytics."""
