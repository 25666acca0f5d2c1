"""The GPU tier: transformers / ultralytics / segment-anything / diffusers backends (see docs/gpu.md)."""
