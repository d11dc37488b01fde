"""Occupancy limits: alerts raised and cleared as live counts cross a zone's or the site's capacity."""
