"""`mallflow calibrate`: a camera's calibration drawn over its own (blurred) picture."""
