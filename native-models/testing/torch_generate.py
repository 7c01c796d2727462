#!/usr/bin/env python3
"""PyTorch's greedy answer for one 8-bit grey image and one prompt text: the reference the app's
ONNX path is judged against.

  torch_generate.py --checkpoint <dir> --grey <file.u8> --width W --height H --prompt <file.txt>
                    --max-new-tokens N [--runs R]

The image is raw 8-bit grey, row by row, replicated to three equal channels (as the app does);
the prompt text goes through the processor's chat template as one user turn after the image.
Prints one JSON line: generated token ids, prompt length, grid and per-stage times (seconds).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--grey", required=True, type=Path)
    parser.add_argument("--width", required=True, type=int)
    parser.add_argument("--height", required=True, type=int)
    parser.add_argument("--prompt", required=True, type=Path)
    parser.add_argument("--max-new-tokens", required=True, type=int)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()

    import numpy as np
    import torch
    from PIL import Image
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

    if args.threads:
        torch.set_num_threads(args.threads)
    grey = np.frombuffer(args.grey.read_bytes(), dtype=np.uint8).reshape(args.height, args.width)
    image = Image.fromarray(np.repeat(grey[:, :, None], 3, axis=2))
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(args.checkpoint, dtype=torch.float32, attn_implementation="eager").eval()
    processor = AutoProcessor.from_pretrained(args.checkpoint)
    t0 = time.perf_counter()
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": args.prompt.read_text(encoding="utf-8")}]}]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = processor(text=[text], images=[image], return_tensors="pt")
    t1 = time.perf_counter()
    with torch.no_grad():
        model.generate(**inputs, do_sample=False, max_new_tokens=1)
        t2 = time.perf_counter()
        generated = model.generate(**inputs, do_sample=False, max_new_tokens=args.max_new_tokens)
        t3 = time.perf_counter()
    prompt_length = inputs["input_ids"].shape[1]
    tokens = generated[0, prompt_length:].tolist()
    prefill = t2 - t1
    decode = max(t3 - t2 - prefill, 0.0)
    print(json.dumps({
        "tokens": tokens,
        "promptTokens": prompt_length,
        "grid": inputs["image_grid_thw"].tolist()[0],
        "seconds": {"preprocess": t1 - t0, "prefill": prefill, "decode": decode},
        "decodeTokensPerSecond": (len(tokens) - 1) / decode if decode > 0 and len(tokens) > 1 else None,
    }), flush=True)


if __name__ == "__main__":
    main()
