"""Golden detections for the differential test, computed with onnxruntime.

Runs the converted CenterNet ONNX model (the same graph the Rust code was generated from) on
every JPEG in a folder and writes, per frame, the detections after the same pre- and
post-processing that twin-vision implements, re-implemented here in numpy:

* pre-processing: whole frame bilinear-resized to 512×512, half-pixel centres, edge clamp,
  rounded to u8 (twin-vision/src/preprocess.rs `resize_bilinear`), fed as float 0..255 NHWC;
* decoding: a heatmap cell is a peak when it is >= the threshold and no 3×3 neighbour is larger
  (an equal neighbour earlier in scan order wins the tie); box = centre (cell × 4) minus/plus the
  left/top/right/bottom distances, mapped back to frame pixels; class-aware greedy NMS at IoU 0.5
  (twin-vision/src/decode.rs).

Golden boxes are written down to a lower threshold than the detector's default so the test can
tell "missing" from "just under the threshold". A few raw heatmap and box-distance values are
kept as well, for the frames (these also see the JPEG decoders' ±3 differences) and for a
synthetic pattern both sides build exactly (model-only comparison). With `--full MODEL` the decoding is cross-checked against the model's own in-graph
`tower_0/detections` output (top-100 peaks before NMS) of the uncut graph.

usage: golden.py MODEL.onnx FRAMES_DIR OUT.json [--full RAW.onnx]
"""
import argparse
import json
import pathlib

import numpy as np
import onnxruntime as ort
from PIL import Image

SIZE = 512
STRIDE = 4.0
GOLDEN_THRESHOLD = 0.1
NMS_IOU = 0.5
MAX_DETECTIONS = 100


def resize_bilinear(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """u8 HxWx3 -> u8 height x width x 3, f32 arithmetic in the Rust operation order."""
    h, w, _ = rgb.shape
    f32 = np.float32
    sx, sy = f32(w) / f32(width), f32(h) / f32(height)

    def taps(n_out, scale, n_in):
        pos = np.maximum((np.arange(n_out, dtype=f32) + f32(0.5)) * scale - f32(0.5), f32(0))
        i0 = np.minimum(np.floor(pos).astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (pos - i0.astype(f32)).astype(f32)

    x0, x1, wx = taps(width, sx, w)
    y0, y1, wy = taps(height, sy, h)
    src = rgb.astype(f32)
    wx3 = wx[None, :, None]
    one = f32(1)
    top = src[y0][:, x0] * (one - wx3) + src[y0][:, x1] * wx3
    bot = src[y1][:, x0] * (one - wx3) + src[y1][:, x1] * wx3
    wy3 = wy[:, None, None]
    v = top * (one - wy3) + bot * wy3
    # Rust's f32::round rounds halves away from zero; values are >= 0 here.
    return np.clip(np.floor(v + f32(0.5)), 0, 255).astype(np.uint8)


def is_peak(heat: np.ndarray, y: int, x: int, k: int) -> bool:
    gh, gw, _ = heat.shape
    s = heat[y, x, k]
    for ny in range(max(y - 1, 0), min(y + 1, gh - 1) + 1):
        for nx in range(max(x - 1, 0), min(x + 1, gw - 1) + 1):
            if (ny, nx) == (y, x):
                continue
            v = heat[ny, nx, k]
            if v > s or (v == s and (ny, nx) < (y, x)):
                return False
    return True


def iou(a, b) -> float:
    f32 = np.float32
    ix = max(min(a[2], b[2]) - max(a[0], b[0]), f32(0))
    iy = max(min(a[3], b[3]) - max(a[1], b[1]), f32(0))
    inter = f32(ix * iy)
    area_a = max(a[2] - a[0], f32(0)) * max(a[3] - a[1], f32(0))
    area_b = max(b[2] - b[0], f32(0)) * max(b[3] - b[1], f32(0))
    union = f32(area_a + area_b - inter)
    return 0.0 if union <= 0 else float(inter / union)


def decode(heat, ltrb, scale_x, scale_y, threshold):
    found = []
    ys, xs, ks = np.nonzero(heat >= np.float32(threshold))
    order = np.lexsort((ks, xs, ys))  # the Rust scan order: y, then x, then class
    for i in order:
        y, x, k = int(ys[i]), int(xs[i]), int(ks[i])
        if not is_peak(heat, y, x, k):
            continue
        d = ltrb[y, x]
        cx, cy = np.float32(x * STRIDE), np.float32(y * STRIDE)
        b = [cx - d[0], cy - d[1], cx + d[2], cy + d[3]]
        frame_box = [b[0] / scale_x, b[1] / scale_y, b[2] / scale_x, b[3] / scale_y]
        found.append({"class": k, "score": heat[y, x, k], "bbox": frame_box, "cell": [y, x]})
    found.sort(key=lambda d: -d["score"])  # stable, like Rust's sort_by
    kept = []
    for d in found:
        if all(k["class"] != d["class"] or iou(k["bbox"], d["bbox"]) <= NMS_IOU for k in kept):
            kept.append(d)
    return kept[:MAX_DETECTIONS]


def cross_check(full_path: str, x: np.ndarray, heat: np.ndarray, ltrb: np.ndarray) -> None:
    """The model's in-graph decoding must agree with ours on where peaks are and their boxes."""
    sess = ort.InferenceSession(full_path, providers=["CPUExecutionProvider"])
    outs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {sess.get_inputs()[0].name: x})))
    dets = outs["tower_0/detections"][0]
    assert np.allclose(outs["tower_0/keypoints"][0], heat, atol=1e-5), "cut graph changed the heatmap"
    assert np.allclose(outs["tower_0/wh"][0], ltrb, atol=1e-3), "cut graph changed the box distances"
    for x1, y1, x2, y2, score, cls in dets[:10]:
        if score < GOLDEN_THRESHOLD:
            break
        ys, xs = np.nonzero(np.isclose(heat[:, :, int(cls)], score, atol=0, rtol=0))
        y, xx = int(ys[0]), int(xs[0])
        d = ltrb[y, xx]
        ours = [xx * STRIDE - d[0], y * STRIDE - d[1], xx * STRIDE + d[2], y * STRIDE + d[3]]
        assert np.allclose(ours, [x1, y1, x2, y2], atol=1e-2), (ours, [x1, y1, x2, y2])


def synthetic_input() -> np.ndarray:
    """A 512×512 test pattern defined by integer formulas, rebuilt bit for bit by the Rust test,
    so raw outputs can be compared without two JPEG decoders in the way."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.int64)
    rgb = np.stack([(x ^ y) & 255, (2 * x + y) & 255, ((x * y) >> 4) & 255], axis=-1)
    return rgb.astype(np.uint8)


def probes_at(heat, ltrb, cells):
    return [{"y": y, "x": x, "class": k, "heat": float(heat[y, x, k]), "ltrb": [float(v) for v in ltrb[y, x]]}
            for y, x, k in cells]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("frames")
    ap.add_argument("out")
    ap.add_argument("--full", help="uncut ONNX graph with the in-graph detections output")
    args = ap.parse_args()

    sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    out_names = [o.name for o in sess.get_outputs()]
    frames = []
    for path in sorted(pathlib.Path(args.frames).glob("*.jpg")):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        h, w, _ = rgb.shape
        x = resize_bilinear(rgb, SIZE, SIZE).astype(np.float32)[None]
        outs = dict(zip(out_names, sess.run(None, {in_name: x})))
        heat, ltrb = outs["tower_0/keypoints"][0], outs["tower_0/wh"][0]
        if args.full:
            cross_check(args.full, x, heat, ltrb)
        sx, sy = np.float32(SIZE) / np.float32(w), np.float32(SIZE) / np.float32(h)
        dets = decode(heat, ltrb, sx, sy, GOLDEN_THRESHOLD)
        # Raw probes: the cells of the strongest detections plus fixed cells.
        cells = [tuple(d["cell"]) + (d["class"],) for d in dets[:3]] + [(0, 0, 0), (64, 64, 2), (100, 30, 7)]
        probes = probes_at(heat, ltrb, cells)
        frames.append({
            "file": path.name,
            "width": w,
            "height": h,
            "detections": [{"class": d["class"], "score": float(d["score"]),
                            "bbox": [float(v) for v in d["bbox"]]} for d in dets],
            "probes": probes,
        })
        print(f"{path.name}: {len(dets)} detections >= {GOLDEN_THRESHOLD}, top {dets[0]['score'] if dets else None}")
    heat, ltrb = (o[0] for o in sess.run(None, {in_name: synthetic_input().astype(np.float32)[None]}))
    top = np.argsort(heat, axis=None)[::-1][:5]
    cells = [tuple(int(v) for v in np.unravel_index(i, heat.shape)) for i in top]
    cells += [(0, 0, 0), (127, 127, 79), (64, 64, 2), (10, 100, 3), (100, 30, 7)]
    doc = {
        "generator": "twin-vision/model/golden.py (onnxruntime " + ort.__version__ + ")",
        "model": pathlib.Path(args.model).name,
        "input_size": SIZE,
        "threshold": GOLDEN_THRESHOLD,
        "nms_iou": NMS_IOU,
        "frames": frames,
        "synthetic": {"pattern": "r = (x ^ y) & 255, g = (2x + y) & 255, b = ((x * y) >> 4) & 255",
                      "probes": probes_at(heat, ltrb, cells)},
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
