"""onnxruntime on the same CenterNet graph and frames as `cargo bench -p twin-vision --bench detect`.

Reports milliseconds per 512×512 forward pass and per frame end to end (JPEG decode, resize,
forward, numpy peak decoding + NMS from golden.py), for one intra-op thread and for the default
thread count, so the figures can sit next to burn's in BENCHMARKS.md.

usage: bench_ort.py MODEL.onnx FRAMES_DIR [--seconds 5]
"""
import argparse
import io
import os
import pathlib
import statistics
import time

import numpy as np
import onnxruntime as ort
from PIL import Image

from golden import SIZE, decode, resize_bilinear


def timed(fn, seconds: float) -> list[float]:
    fn()  # warm-up
    out, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end or len(out) < 10:
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("frames")
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    jpegs = [p.read_bytes() for p in sorted(pathlib.Path(args.frames).glob("*.jpg"))]
    print(f"onnxruntime {ort.__version__}, {os.cpu_count()} CPUs, {len(jpegs)} frames")
    for threads in (1, 0):
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        i = [0]

        def frame_input(k):
            rgb = np.asarray(Image.open(io.BytesIO(jpegs[k % len(jpegs)])).convert("RGB"))
            return rgb, resize_bilinear(rgb, SIZE, SIZE).astype(np.float32)[None]

        inputs = [frame_input(k)[1] for k in range(len(jpegs))]

        def forward():
            i[0] += 1
            sess.run(None, {name: inputs[i[0] % len(inputs)]})

        def end_to_end():
            i[0] += 1
            rgb, x = frame_input(i[0])
            heat, ltrb = sess.run(None, {name: x})
            h, w, _ = rgb.shape
            decode(heat[0], ltrb[0], np.float32(SIZE) / np.float32(w), np.float32(SIZE) / np.float32(h), 0.3)

        label = "default threads" if threads == 0 else f"{threads} thread"
        for what, fn in (("forward 512x512", forward), ("end to end frame", end_to_end)):
            ms = timed(fn, args.seconds)
            print(f"{label:>16} {what:<18} median {statistics.median(ms):7.1f} ms  "
                  f"min {min(ms):7.1f} ms  ({len(ms)} runs)")


if __name__ == "__main__":
    main()
