"""Nothing identifiable leaves the edge: face blurring and the snapshot policy."""
