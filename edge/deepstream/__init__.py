"""The DeepStream path (Jetson, `--engine deepstream`): decode, detection and ReID in one GPU pipeline.

`pipeline` (the plan, camera mapping, crops, capture times, camera states), `metadata`
(tensor meta ↔ our boxes and embeddings) and `nvinfer_config` are pure and tested
anywhere; `agent` feeds the shared agent core from the pipeline without importing it;
`runtime` is the only module that imports `gi` and `pyds`, loaded when the engine is chosen.
"""
