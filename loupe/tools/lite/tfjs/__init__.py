"""Run TF.js graph models (model.json + .bin shards) with PyTorch, without TensorFlow.

    from loupe.tools.lite.tfjs import GraphModel, UnsupportedOpError
    model = GraphModel.load("models/centernet.json", device="cpu")
    outputs = model(images)   # images: float32 [N, H, W, C]; returns name -> tensor (TF layout)
"""
from .graph import GraphModel
from .model_file import ModelFileError, load_model_file
from .ops import supported_ops
from .registry import UnsupportedOpError

__all__ = ["GraphModel", "ModelFileError", "UnsupportedOpError", "load_model_file", "supported_ops"]
