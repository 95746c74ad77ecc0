"""Runs tf2onnx's command line under numpy 2.

tf2onnx 1.17 still refers to a few numpy aliases that numpy 2 removed; put them back before
importing it. Arguments are passed through to `python -m tf2onnx.convert`.
"""
import sys

import numpy as np

for alias, target in (("product", np.prod), ("object", object), ("bool", bool)):
    if not hasattr(np, alias):
        setattr(np, alias, target)

from tf2onnx import convert  # noqa: E402  (after the aliases on purpose)

sys.argv = ["tf2onnx.convert", *sys.argv[1:]]
convert.main()
