"""Edge agent: camera sources → detection → tracking + ReID → per-camera analytics → events."""
