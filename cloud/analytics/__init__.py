"""What a mall operator asks for, computed from the fact and rollup tables for one site.

One module per question (footfall, visitors, occupancy, dwell, heatmap, transitions,
camera_health) plus the retention job; all bucket in the site's timezone (buckets.py).
Reads and writes through a caller's Session; knows no HTTP.
"""
