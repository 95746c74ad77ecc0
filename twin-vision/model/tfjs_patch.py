"""Makes the old TensorFlow.js graph model loadable by current TensorFlow / tf2onnx.

The model.json was written by an older converter: some op attributes that today's op
definitions require are missing. We fill every missing attribute with the op's registered
default, and give the fused ops the `TArgs` list that tf2onnx reads.

usage: tfjs_patch.py SRC_MODEL_JSON DST_MODEL_JSON
"""
import json
import sys

from google.protobuf import json_format
from tensorflow.python.framework import op_def_registry

FUSED_OPS = {"_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul"}


def patch(model: dict) -> int:
    filled = 0
    for node in model["modelTopology"]["node"]:
        attrs = node.setdefault("attr", {})
        if node["op"] in FUSED_OPS and "TArgs" not in attrs:
            extra = int(attrs.get("num_args", {"i": "0"})["i"])
            attrs["TArgs"] = {"list": {"type": ["DT_FLOAT"] * extra}}
            filled += 1
        op_def = op_def_registry.get(node["op"])
        if op_def is None:
            continue
        for a in op_def.attr:
            if a.name in attrs or not a.HasField("default_value"):
                continue
            attrs[a.name] = json_format.MessageToDict(a.default_value)
            filled += 1
    return filled


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        model = json.load(f)
    n = patch(model)
    with open(dst, "w") as f:
        json.dump(model, f)
    print(f"tfjs_patch: filled {n} attributes -> {dst}")


if __name__ == "__main__":
    main()
