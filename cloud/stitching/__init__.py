"""Cross-camera stitching: per-camera tracklets → global visitors (ReID + topology + transit time)."""
