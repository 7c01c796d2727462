#!/usr/bin/env python3
"""The dynamic-grid vision encoder against HF's own vision tower, at the grids Qwen's processor
makes of 512x512, 256x256, 181x217 and 1024x768 (w x h) images.

  check_vision_grids.py --checkpoint <dir> [--onnx <vision_encoder.onnx> ...]

Compares crm_export.vision_encoder.DynamicGridVisionEncoder (PyTorch) and each given ONNX file
(onnxruntime, float32 pixel_values as the app feeds them) with model.visual (eager). Prints
one JSON line per comparison: {"source", "image", "grid", "max_abs", "max_ref"}, and per ONNX
file whether two images in one call raise: {"source", "two_images_error"}.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = [(512, 512), (256, 256), (181, 217), (1024, 768)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--onnx", action="append", default=[], type=Path)
    args = parser.parse_args()

    import numpy as np
    import onnxruntime as ort
    import torch
    from PIL import Image
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration
    from crm_export.vision_encoder import DynamicGridVisionEncoder

    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(args.checkpoint, dtype=torch.float32, attn_implementation="eager").eval()
    processor = AutoProcessor.from_pretrained(args.checkpoint)
    visual = model.model.visual if hasattr(model.model, "visual") else model.visual
    wrapper = DynamicGridVisionEncoder(visual).eval()
    sessions = {str(p): ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in args.onnx}
    rng = np.random.default_rng(0)
    for width, height in SIZES:
        image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        inputs = processor.image_processor(images=[image], return_tensors="pt")
        pixel_values, grid = inputs["pixel_values"], inputs["image_grid_thw"]
        with torch.no_grad():
            reference = visual(pixel_values, grid_thw=grid)
            reference = (reference.pooler_output if hasattr(reference, "pooler_output") else reference).numpy()
            candidates = {"torch-wrapper": wrapper(pixel_values, grid).numpy()}
        for name, session in sessions.items():
            candidates[name] = session.run(None, {"pixel_values": pixel_values.numpy().astype(np.float32), "image_grid_thw": grid.numpy().astype(np.int64)})[0]
        for name, output in candidates.items():
            if output.shape != reference.shape:
                raise SystemExit(f"{name} at {width}x{height}: shape {output.shape}, HF gives {reference.shape}")
            record = {
                "source": name, "image": f"{width}x{height}", "grid": grid.tolist()[0],
                "max_abs": float(np.abs(output.astype(np.float32) - reference).max()), "max_ref": float(np.abs(reference).max()),
            }
            print(json.dumps(record), flush=True)
    # One image per call: two grid rows must raise, not return features for one of them.
    for name, session in sessions.items():
        two = processor.image_processor(images=[image, image], return_tensors="pt")
        try:
            session.run(None, {"pixel_values": two["pixel_values"].numpy(), "image_grid_thw": two["image_grid_thw"].numpy().astype(np.int64)})
            error = None
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidArgument types
            error = str(exc).splitlines()[0][:200]
        print(json.dumps({"source": name, "two_images_error": error}), flush=True)


if __name__ == "__main__":
    main()
