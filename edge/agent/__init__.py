"""Running cameras: perception per camera, the multi-camera agent loop and its metrics."""
