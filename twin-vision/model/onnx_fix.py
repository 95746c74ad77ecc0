"""Prepares the converted CenterNet ONNX graph for burn-onnx.

1. Cuts the graph at the two head outputs (`tower_0/keypoints`, `tower_0/wh`): peak finding,
   top-k and box assembly run in Rust (twin-vision/src/decode.rs), which is faster than the
   in-graph TopK path and keeps the graph to ops burn supports well.
2. Rewrites every `Resize(mode=linear, coordinate_transformation_mode=asymmetric, scale 2)` as
   elementary ops. burn-onnx 0.22 imports `asymmetric` as half-pixel, which runs without error
   but shifts boxes and lowers scores. For an exact ×2 upsample, asymmetric linear means
   out[2i] = x[i] and out[2i+1] = (x[i] + x[min(i+1, n-1)]) / 2, which Slice/Concat/Add/Mul
   and an interleaving Reshape express exactly.

usage: onnx_fix.py SRC.onnx DST.onnx
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

OUTPUTS = ["tower_0/keypoints", "tower_0/wh"]


class Builder:
    """Appends nodes and constants with fresh names to a graph under construction."""

    def __init__(self, graph: onnx.GraphProto):
        self.graph = graph
        self.nodes: list[onnx.NodeProto] = []
        self.count = 0

    def _name(self, stem: str) -> str:
        self.count += 1
        return f"up2_{stem}_{self.count}"

    def const(self, value, dtype) -> str:
        name = self._name("c")
        self.graph.initializer.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], out: str | None = None, **attrs) -> str:
        out = out or self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out


def upsample2_axis(b: Builder, x: str, shape: list[int], axis: int) -> tuple[str, list[int]]:
    """Asymmetric linear ×2 along one axis of a 4-D tensor."""
    n = shape[axis]
    i64 = np.int64
    # x shifted by one with the last element repeated: x[min(i+1, n-1)].
    tail = b.op("Slice", [x, b.const([1], i64), b.const([n], i64), b.const([axis], i64)])
    last = b.op("Slice", [x, b.const([n - 1], i64), b.const([n], i64), b.const([axis], i64)])
    shifted = b.op("Concat", [tail, last], axis=axis)
    mid = b.op("Mul", [b.op("Add", [x, shifted]), b.const(0.5, np.float32)])
    # Interleave x and mid: stack on a new axis after `axis`, then merge the two.
    ax = b.const([axis + 1], i64)
    pair = b.op("Concat", [b.op("Unsqueeze", [x, ax]), b.op("Unsqueeze", [mid, ax])], axis=axis + 1)
    out_shape = list(shape)
    out_shape[axis] = 2 * n
    return b.op("Reshape", [pair, b.const(out_shape, i64)]), out_shape


def fix_resizes(model: onnx.ModelProto) -> int:
    model = shape_inference.infer_shapes(model)
    graph = model.graph
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in [*graph.value_info, *graph.input, *graph.output]
    }
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    b = Builder(graph)
    replaced = 0
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        is_target = (
            node.op_type == "Resize"
            and attrs.get("mode") == b"linear"
            and attrs.get("coordinate_transformation_mode") == b"asymmetric"
        )
        if not is_target:
            b.nodes.append(node)
            continue
        scales = inits.get(node.input[2]) if len(node.input) > 2 else None
        if scales is None or list(scales) != [1.0, 1.0, 2.0, 2.0]:
            raise SystemExit(f"{node.name}: only NCHW x2 resizes are handled, scales={scales}")
        shape = shapes[node.input[0]]
        if len(shape) != 4 or 0 in shape:
            raise SystemExit(f"{node.name}: static 4-D input shape needed, got {shape}")
        y, s = upsample2_axis(b, node.input[0], shape, 3)
        y, s = upsample2_axis(b, y, s, 2)
        b.nodes[-1].output[0] = node.output[0]
        print(f"onnx_fix: {node.name} {shape} -> {s}")
        replaced += 1
    del graph.node[:]
    graph.node.extend(b.nodes)
    return model, replaced


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    model = onnx.load(src)
    inputs = [i.name for i in model.graph.input]
    cut = onnx.utils.Extractor(model).extract_model(inputs, OUTPUTS)
    fixed, replaced = fix_resizes(cut)
    if replaced != 3:
        raise SystemExit(f"expected 3 Resize nodes, replaced {replaced}")
    # Drop value_info from shape inference: it is re-derived by consumers and only adds bytes.
    del fixed.graph.value_info[:]
    onnx.checker.check_model(fixed)
    onnx.save(fixed, dst)
    print(f"onnx_fix: outputs {OUTPUTS} -> {dst}")


if __name__ == "__main__":
    main()
