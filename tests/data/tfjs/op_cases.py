"""Op test cases for the TF.js runner, shared by make_reference.py (TF side).

Pure Python, no imports beyond the standard library. Each case: ``op``, ``attr``
(GraphDef JSON attr form), ``inputs`` (one dict per input: ``shape``, ``dtype``,
optional ``value`` (explicit list), ``low``/``high`` (random range), ``const``) and
``outputs`` (how many output tensors to record).
"""
import base64


def i(v): return {"i": str(v)}
def f(v): return {"f": v}
def b(v): return {"b": v}
def s(v): return {"s": base64.b64encode(v.encode()).decode()}
def ints(vs): return {"list": {"i": [str(v) for v in vs]}}
def strs(vs): return {"list": {"s": [base64.b64encode(v.encode()).decode() for v in vs]}}


def x(shape, dtype="float32", low=-2.0, high=2.0, const=False, value=None):
    spec = {"shape": list(shape), "dtype": dtype, "low": low, "high": high, "const": const}
    if value is not None:
        spec["value"] = value
    return spec


def c(shape, dtype="float32", low=-1.0, high=1.0, value=None):
    return x(shape, dtype, low, high, const=True, value=value)


def conv(padding, strides=(1, 1), dil=(1, 1), explicit=None):
    a = {"padding": s(padding), "strides": ints([1, *strides, 1]), "dilations": ints([1, *dil, 1]),
         "data_format": s("NHWC")}
    if explicit:
        a["explicit_paddings"] = ints(explicit)
    return a


def fused(ops, padding="SAME", strides=(1, 1), num_args=1, alpha=None):
    a = conv(padding, strides)
    a.update({"fused_ops": strs(ops), "num_args": i(num_args)})
    if alpha is not None:
        a["leakyrelu_alpha"] = f(alpha)
    return a


def pool(padding, k, st):
    return {"padding": s(padding), "ksize": ints([1, k, k, 1]), "strides": ints([1, st, st, 1]),
            "data_format": s("NHWC")}


def resize(align, half):
    return {"align_corners": b(align), "half_pixel_centers": b(half)}


def sslice(begin=0, end=0, ellipsis=0, new=0, shrink=0):
    return {"begin_mask": i(begin), "end_mask": i(end), "ellipsis_mask": i(ellipsis),
            "new_axis_mask": i(new), "shrink_axis_mask": i(shrink)}


IMG = [2, 7, 9, 3]
CASES = {
    "Conv2D_same_s2": ("Conv2D", conv("SAME", (2, 2)), [x(IMG), c([3, 3, 3, 4])]),
    "Conv2D_same_k4": ("Conv2D", conv("SAME"), [x(IMG), c([4, 2, 3, 5])]),
    "Conv2D_valid_dil2": ("Conv2D", conv("VALID", dil=(2, 2)), [x(IMG), c([3, 3, 3, 4])]),
    "Conv2D_explicit": ("Conv2D", conv("EXPLICIT", explicit=[0, 0, 1, 2, 0, 1, 0, 0]),
                        [x(IMG), c([3, 3, 3, 4])]),
    "FusedConv2D_relu": ("_FusedConv2D", fused(["BiasAdd", "Relu"], strides=(2, 2)),
                         [x(IMG), c([3, 3, 3, 4]), c([4])]),
    "FusedConv2D_bias": ("_FusedConv2D", fused(["BiasAdd"], "VALID"), [x(IMG), c([1, 1, 3, 4]), c([4])]),
    "FusedConv2D_relu6": ("_FusedConv2D", fused(["BiasAdd", "Relu6"]),
                          [x(IMG, low=-9, high=9), c([3, 3, 3, 4]), c([4])]),
    "FusedConv2D_prelu": ("_FusedConv2D", fused(["BiasAdd", "Prelu"], num_args=2),
                          [x(IMG), c([3, 3, 3, 4]), c([4]), c([4])]),
    "FusedConv2D_leaky": ("_FusedConv2D", fused(["BiasAdd", "LeakyRelu"], alpha=0.1),
                          [x(IMG), c([3, 3, 3, 4]), c([4])]),
    "FusedConv2D_elu": ("_FusedConv2D", fused(["BiasAdd", "Elu"]), [x(IMG), c([3, 3, 3, 4]), c([4])]),
    "FusedConv2D_sigmoid": ("_FusedConv2D", fused(["BiasAdd", "Sigmoid"]),
                            [x(IMG), c([3, 3, 3, 4]), c([4])]),
    "Depthwise_same_s2_m2": ("DepthwiseConv2dNative", conv("SAME", (2, 2)), [x(IMG), c([3, 3, 3, 2])]),
    "Depthwise_valid": ("DepthwiseConv2dNative", conv("VALID"), [x(IMG), c([3, 3, 3, 1])]),
    "FusedDepthwise_relu": ("FusedDepthwiseConv2dNative", fused(["BiasAdd", "Relu"], strides=(2, 2)),
                            [x(IMG), c([5, 5, 3, 1]), c([3])]),
    "FusedDepthwise_bias": ("FusedDepthwiseConv2dNative", fused(["BiasAdd"]),
                            [x(IMG), c([3, 3, 3, 2]), c([6])]),
    "Conv2DBackprop_same": ("Conv2DBackpropInput", conv("SAME", (2, 2)),
                            [c([4], "int32", value=[2, 8, 10, 4]), c([3, 3, 4, 3]), x([2, 4, 5, 3])]),
    "Conv2DBackprop_valid": ("Conv2DBackpropInput", conv("VALID", (2, 2)),
                             [c([4], "int32", value=[2, 9, 11, 4]), c([3, 3, 4, 3]), x([2, 4, 5, 3])]),
    "BiasAdd": ("BiasAdd", {"data_format": s("NHWC")}, [x(IMG), c([3])]),
    "BiasAdd_2d": ("BiasAdd", {}, [x([5, 3]), c([3])]),
    "Add_bcast": ("Add", {}, [x(IMG), c([3])]),
    "AddV2_4d": ("AddV2", {}, [x(IMG), x(IMG)]),
    "Sub_bcast": ("Sub", {}, [x(IMG), c([1, 9, 1])]),
    "Mul": ("Mul", {}, [x(IMG), c([1, 1, 1, 3])]),
    "RealDiv": ("RealDiv", {}, [x(IMG), c([3], low=0.5, high=2)]),
    "Div_int": ("Div", {}, [x([12], "int32", -20, 20), c([12], "int32", value=[3, -3, 4, -4, 5, 7, -7, 2, 3, 6, -5, 9])]),
    "Maximum": ("Maximum", {}, [x(IMG), c([])]),
    "Minimum": ("Minimum", {}, [x(IMG), x(IMG)]),
    "FloorDiv_int": ("FloorDiv", {}, [x([12], "int32", -20, 20), c([12], "int32", value=[3, -3, 4, -4, 5, 7, -7, 2, 3, 6, -5, 9])]),
    "FloorDiv_float": ("FloorDiv", {}, [x([10], low=-5, high=5), c([10], low=0.5, high=2)]),
    "FloorMod_int": ("FloorMod", {}, [x([12], "int32", -20, 20), c([12], "int32", value=[3, -3, 4, -4, 5, 7, -7, 2, 3, 6, -5, 9])]),
    "FloorMod_float": ("FloorMod", {}, [x([10], low=-5, high=5), c([10], value=[1.5, -1.5, 2, -2, 0.7, 3, -3, 1, 2.5, -0.5])]),
    "Equal": ("Equal", {}, [x([3, 4], "int32", 0, 3), x([3, 4], "int32", 0, 3)]),
    "NotEqual": ("NotEqual", {}, [x([3, 4], "int32", 0, 3), x([3, 4], "int32", 0, 3)]),
    "Less": ("Less", {}, [x([3, 4]), x([3, 4])]),
    "LessEqual": ("LessEqual", {}, [x([3, 4], "int32", 0, 3), x([3, 4], "int32", 0, 3)]),
    "Greater": ("Greater", {}, [x([3, 4]), c([])]),
    "GreaterEqual": ("GreaterEqual", {}, [x([3, 4], "int32", 0, 3), c([], "int32", value=1)]),
    "Pow": ("Pow", {}, [x([6], low=0.5, high=2), c([6])]),
    "SquaredDifference": ("SquaredDifference", {}, [x(IMG), c([3])]),
    "LogicalAnd": ("LogicalAnd", {}, [x([8], "bool"), x([8], "bool")]),
    "SelectV2": ("SelectV2", {}, [x([2, 1, 3], "bool"), x([2, 4, 3]), x([4, 3])]),
    "Select": ("Select", {}, [x([4], "bool"), x([4, 3]), x([4, 3])]),
    "Where": ("Where", {}, [x([3, 5], "bool")]),
    "LeakyRelu": ("LeakyRelu", {"alpha": f(0.1)}, [x(IMG)]),
    "Prelu": ("Prelu", {}, [x(IMG), c([3])]),
    "AddN": ("AddN", {}, [x(IMG), x(IMG), x(IMG)]),
    "Cast_f2i": ("Cast", {"DstT": {"type": "DT_INT32"}, "Truncate": b(False)}, [x([10], low=-5, high=5)]),
    "Cast_i2f": ("Cast", {"DstT": {"type": "DT_FLOAT"}}, [x([10], "int32", -5, 5)]),
    "Cast_b2f": ("Cast", {"DstT": {"type": "DT_FLOAT"}}, [x([10], "bool")]),
    "Mean_keep": ("Mean", {"keep_dims": b(True)}, [x(IMG), c([2], "int32", value=[1, 2])]),
    "Mean_drop": ("Mean", {"keep_dims": b(False)}, [x(IMG), c([1], "int32", value=[-1])]),
    "Sum": ("Sum", {"keep_dims": b(False)}, [x(IMG), c([2], "int32", value=[1, 3])]),
    "Max": ("Max", {"keep_dims": b(True)}, [x(IMG), c([1], "int32", value=[3])]),
    "Min": ("Min", {"keep_dims": b(False)}, [x(IMG), c([1], "int32", value=[2])]),
    "Prod": ("Prod", {"keep_dims": b(True)}, [x([2, 3, 4], low=0.5, high=1.5), c([2], "int32", value=[0, 2])]),
    "ArgMax": ("ArgMax", {"output_type": {"type": "DT_INT32"}}, [x(IMG), c([], "int32", value=3)]),
    "Softmax": ("Softmax", {}, [x(IMG)]),
    "MaxPool_same_s2": ("MaxPool", pool("SAME", 3, 2), [x(IMG)]),
    "MaxPool_same_s1": ("MaxPool", pool("SAME", 3, 1), [x(IMG)]),
    "MaxPool_valid": ("MaxPool", pool("VALID", 2, 2), [x(IMG)]),
    "AvgPool_same_s2": ("AvgPool", pool("SAME", 3, 2), [x(IMG)]),
    "AvgPool_same_k2": ("AvgPool", pool("SAME", 2, 1), [x(IMG)]),
    "AvgPool_valid": ("AvgPool", pool("VALID", 2, 2), [x(IMG)]),
    "ConcatV2_ch": ("ConcatV2", {}, [x(IMG), x([2, 7, 9, 2]), c([], "int32", value=3)]),
    "ConcatV2_h": ("ConcatV2", {}, [x(IMG), x([2, 3, 9, 3]), c([], "int32", value=1)]),
    "ConcatV2_neg": ("ConcatV2", {}, [x([2, 3]), x([2, 5]), c([], "int32", value=-1)]),
    "Reshape": ("Reshape", {}, [x(IMG), c([3], "int32", value=[2, -1, 3])]),
    "Transpose": ("Transpose", {}, [x(IMG), c([4], "int32", value=[0, 3, 1, 2])]),
    "Transpose_3d": ("Transpose", {}, [x([2, 3, 4]), c([3], "int32", value=[2, 0, 1])]),
    "Pad": ("Pad", {}, [x(IMG), c([4, 2], "int32", value=[[0, 0], [1, 2], [0, 3], [1, 0]])]),
    "PadV2": ("PadV2", {}, [x(IMG), c([4, 2], "int32", value=[[0, 0], [1, 1], [2, 0], [0, 0]]), c([], value=-3.5)]),
    "MirrorPad_reflect": ("MirrorPad", {"mode": s("REFLECT")}, [x(IMG), c([4, 2], "int32", value=[[0, 0], [2, 1], [1, 2], [0, 0]])]),
    "MirrorPad_symmetric": ("MirrorPad", {"mode": s("SYMMETRIC")}, [x(IMG), c([4, 2], "int32", value=[[0, 0], [2, 1], [1, 2], [0, 0]])]),
    "MatMul": ("MatMul", {"transpose_a": b(False), "transpose_b": b(False)}, [x([4, 5]), c([5, 3])]),
    "MatMul_tt": ("MatMul", {"transpose_a": b(True), "transpose_b": b(True)}, [x([5, 4]), x([3, 5])]),
    "FusedMatMul": ("_FusedMatMul", {"transpose_a": b(False), "transpose_b": b(False), "fused_ops": strs(["BiasAdd", "Relu"]), "num_args": i(1)},
                    [x([4, 5]), c([5, 3]), c([3])]),
    "BatchMatMulV2": ("BatchMatMulV2", {"adj_x": b(False), "adj_y": b(True)}, [x([2, 4, 5]), x([2, 3, 5])]),
    "Squeeze": ("Squeeze", {"squeeze_dims": ints([0, 2])}, [x([1, 3, 1, 2])]),
    "Squeeze_all": ("Squeeze", {}, [x([1, 3, 1, 2])]),
    "ExpandDims": ("ExpandDims", {}, [x([3, 4]), c([], "int32", value=-1)]),
    "Shape": ("Shape", {"out_type": {"type": "DT_INT32"}}, [x(IMG)]),
    "Pack": ("Pack", {"axis": i(1)}, [x([3, 4]), x([3, 4])]),
    "Unpack": ("Unpack", {"axis": i(1), "num": i(3)}, [x([2, 3, 4])], 3),
    "Slice": ("Slice", {}, [x(IMG), c([4], "int32", value=[0, 1, 2, 0]), c([4], "int32", value=[-1, 3, -1, 2])]),
    "StridedSlice_masks": ("StridedSlice", sslice(begin=9, end=9),
                           [x(IMG), c([4], "int32", value=[0, 1, 0, 1]), c([4], "int32", value=[0, 6, 0, 3]), c([4], "int32", value=[1, 2, 1, 1])]),
    "StridedSlice_shrink": ("StridedSlice", sslice(begin=1, end=1, shrink=2),
                            [x([4, 5, 6]), c([3], "int32", value=[0, -1, 1]), c([3], "int32", value=[0, 0, 5]), c([3], "int32", value=[1, 1, 2])]),
    "StridedSlice_neg": ("StridedSlice", sslice(),
                         [x([6, 5]), c([2], "int32", value=[-1, 4]), c([2], "int32", value=[-7, 0]), c([2], "int32", value=[-2, -1])]),
    "StridedSlice_ellipsis_new": ("StridedSlice", sslice(ellipsis=1, new=4),
                                  [x([2, 3, 4]), c([3], "int32", value=[0, 1, 0]), c([3], "int32", value=[0, 3, 0]), c([3], "int32", value=[1, 1, 1])]),
    "TopKV2_ties": ("TopKV2", {"sorted": b(True)}, [x([2, 12], value=[[1, 3, 3, 0, 0, 0, 2, 2, 5, 0, 0, 1], [0] * 12]), c([], "int32", value=5)], 2),
    "TopKV2_rand": ("TopKV2", {"sorted": b(True)}, [x([3, 40]), c([], "int32", value=7)], 2),
    "GatherV2": ("GatherV2", {"batch_dims": i(0)}, [x([4, 5, 3]), c([2, 3], "int32", value=[[0, 4, 2], [1, 1, 3]]), c([], "int32", value=1)]),
    "Fill": ("Fill", {}, [c([2], "int32", value=[2, 3]), c([], value=1.5)]),
    "Range": ("Range", {"Tidx": {"type": "DT_INT32"}}, [c([], "int32", value=2), c([], "int32", value=11), c([], "int32", value=3)]),
    "Tile": ("Tile", {}, [x([2, 3]), c([2], "int32", value=[2, 3])]),
    "Split": ("Split", {"num_split": i(3)}, [c([], "int32", value=3), x([2, 3, 4, 6])], 3),
    "SplitV": ("SplitV", {"num_split": i(2)}, [x([2, 7]), c([2], "int32", value=[4, -1]), c([], "int32", value=1)], 2),
    "SparseToDense": ("SparseToDense", {"validate_indices": b(True)},
                      [c([3], "int32", value=[0, 2, 5]), c([1], "int32", value=[7]), c([3], value=[1, 2, 3]), c([], value=-1)]),
    "NMSV3": ("NonMaxSuppressionV3", {},
              [x([6, 4], value=[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11], [0, 10.1, 1, 11.1], [0, 100, 1, 101]]),
               x([6], value=[0.9, 0.75, 0.6, 0.95, 0.5, 0.3]), c([], "int32", value=3), c([], value=0.5), c([], value=0.0)]),
    "NMSV5": ("NonMaxSuppressionV5", {"pad_to_max_output_size": b(True)},
              [x([6, 4], value=[[0, 0, 1, 1], [1, 1.1, 0, 0.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11], [0, 10.1, 1, 11.1], [0, 100, 1, 101]]),
               x([6], value=[0.9, 0.75, 0.6, 0.95, 0.5, 0.3]), c([], "int32", value=5), c([], value=0.5), c([], value=0.4), c([], value=0.0)], 3),
    "ResizeBilinear_legacy": ("ResizeBilinear", resize(False, False), [x(IMG), c([2], "int32", value=[14, 20])]),
    "ResizeBilinear_align": ("ResizeBilinear", resize(True, False), [x(IMG), c([2], "int32", value=[13, 5])]),
    "ResizeBilinear_half": ("ResizeBilinear", resize(False, True), [x(IMG), c([2], "int32", value=[11, 16])]),
    "ResizeBilinear_half_down": ("ResizeBilinear", resize(False, True), [x(IMG), c([2], "int32", value=[3, 4])]),
    "ResizeNearest_legacy": ("ResizeNearestNeighbor", resize(False, False), [x(IMG), c([2], "int32", value=[14, 20])]),
    "ResizeNearest_align": ("ResizeNearestNeighbor", resize(True, False), [x(IMG), c([2], "int32", value=[13, 5])]),
    "ResizeNearest_half": ("ResizeNearestNeighbor", resize(False, True), [x(IMG), c([2], "int32", value=[11, 4])]),
}
UNARY = ["Relu", "Relu6", "Sigmoid", "Tanh", "Elu", "Selu", "Softplus", "Exp", "Neg", "Abs", "Floor",
         "Ceil", "Sign", "Erf", "Sin", "Cos", "Square", "Identity", "StopGradient", "Snapshot", "ZerosLike",
         "OnesLike"]
for _name in UNARY:
    CASES[_name] = (_name, {}, [x(IMG, low=-8 if _name == "Relu6" else -2, high=8 if _name == "Relu6" else 2)])
for _name in ("Log", "Sqrt", "Rsqrt", "Reciprocal"):
    CASES[_name] = (_name, {}, [x(IMG, low=0.2, high=3)])
CASES["Round"] = ("Round", {}, [x([8], value=[0.5, 1.5, 2.5, -0.5, -1.5, 0.49, 2.51, -2.6])])
CASES["LogicalNot"] = ("LogicalNot", {}, [x([6], "bool")])
CASES.update({
    "DivNoNan": ("DivNoNan", {}, [x([6]), c([6], value=[1, 0, 2, 0, -1, 3])]),
    "LogicalOr": ("LogicalOr", {}, [x([8], "bool"), x([8], "bool")]),
    "IdentityN": ("IdentityN", {}, [x([2, 3]), x([4], "int32", 0, 9)], 2),
    "ArgMin": ("ArgMin", {"output_type": {"type": "DT_INT64"}}, [x([3, 7]), c([], "int32", value=0)]),
    "LogSoftmax": ("LogSoftmax", {}, [x([3, 7])]),
    "All": ("All", {"keep_dims": b(False)}, [x([3, 4], "bool"), c([1], "int32", value=[1])]),
    "Any": ("Any", {"keep_dims": b(True)}, [x([3, 4], "bool"), c([1], "int32", value=[0])]),
    "Concat": ("Concat", {}, [c([], "int32", value=0), x([2, 3]), x([1, 3])]),
    "Gather": ("Gather", {}, [x([5, 3]), c([4], "int32", value=[4, 0, 0, 2])]),
    "BatchMatMul": ("BatchMatMul", {"adj_x": b(True), "adj_y": b(False)}, [x([2, 5, 4]), x([2, 5, 3])]),
    "NMSV4": ("NonMaxSuppressionV4", {"pad_to_max_output_size": b(False)},
              [x([4, 4], value=[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 10, 1, 11], [0, 20, 1, 21]]),
               x([4], value=[0.9, 0.8, 0.7, 0.2]), c([], "int32", value=3), c([], value=0.5), c([], value=0.3)], 2),
})
