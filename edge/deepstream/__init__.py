"""The DeepStream path (Jetson): nvinfer configs and batch-metadata conversion.

Everything here that is a pure function (config generation, tensor → detections) runs and
is tested anywhere; the pipeline itself imports `gi` and `pyds` only when chosen.
"""
