#!/usr/bin/env python3
"""A random-weight Qwen2.5-VL checkpoint with the 7B's structure, for export tests and benchmarks.

  random_qwen2_5_vl.py --out <dir> --seed N [--scale tiny|small|narrow7b]

Keeps what the export has to get right: windowed vision attention (window 112 px, patch 14,
spatial merge 2, temporal patch 2) with full-attention blocks, mRoPE sections summing to
head_dim/2, grouped KV heads, untied embeddings, Qwen's vocabulary size, rope_theta 1e6 and the
real special token ids. Only widths and depths shrink. Writes save_pretrained's safetensors,
Qwen2VLImageProcessor's preprocessor_config.json (the seed's min/max pixels) and the Qwen
tokenizer (native-models/qwen_tokenizer.py).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qwen_tokenizer import write_qwen2_5_vl_tokenizer  # noqa: E402

VOCAB = 151936
SPECIAL = {"image_token_id": 151655, "video_token_id": 151656, "vision_start_token_id": 151652, "vision_end_token_id": 151653}
EOS, PAD, BOS = 151645, 151643, 151643

# head_dim/2 split into the 7B's temporal:height:width proportions (16:24:24 of 64).
SCALES = {
    "tiny": dict(
        text=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16, mrope_section=[2, 3, 3]),
        vision=dict(depth=4, hidden_size=32, intermediate_size=64, num_heads=2, fullatt_block_indexes=[1, 3]),
    ),
    "small": dict(
        text=dict(hidden_size=128, intermediate_size=256, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, head_dim=32, mrope_section=[4, 6, 6]),
        vision=dict(depth=8, hidden_size=64, intermediate_size=128, num_heads=4, fullatt_block_indexes=[3, 7]),
    ),
    # The 7B's depths, head counts and head sizes, narrower MLPs and hidden widths.
    "narrow7b": dict(
        text=dict(hidden_size=512, intermediate_size=1024, num_hidden_layers=28, num_attention_heads=4, num_key_value_heads=1, head_dim=128, mrope_section=[16, 24, 24]),
        vision=dict(depth=32, hidden_size=256, intermediate_size=512, num_heads=2, fullatt_block_indexes=[7, 15, 23, 31]),
    ),
}
# Larger than the default 0.02 so that a random model's greedy output wanders instead of
# repeating one token, which would make a token-by-token parity test trivially true.
INIT_STD = 0.2

MIN_PIXELS = 3136
MAX_PIXELS = 12845056


def build_config(scale: str):
    from transformers import Qwen2_5_VLConfig

    spec = SCALES[scale]
    text = dict(spec["text"])
    mrope = text.pop("mrope_section")
    if sum(mrope) * 2 != text["head_dim"]:
        raise SystemExit(f"mrope_section {mrope} must sum to head_dim/2")
    text_config = dict(
        text,
        vocab_size=VOCAB,
        max_position_embeddings=32768,
        rms_norm_eps=1e-6,
        hidden_act="silu",
        use_sliding_window=False,
        rope_theta=1000000.0,
        rope_scaling={"type": "mrope", "rope_type": "default", "mrope_section": mrope},
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": mrope},
        bos_token_id=BOS,
        eos_token_id=EOS,
        pad_token_id=PAD,
        initializer_range=INIT_STD,
        tie_word_embeddings=False,
    )
    vision_config = dict(
        spec["vision"],
        hidden_act="silu",
        in_channels=3,
        patch_size=14,
        spatial_merge_size=2,
        temporal_patch_size=2,
        window_size=112,
        tokens_per_second=2,
        out_hidden_size=text["hidden_size"],
        initializer_range=INIT_STD,
    )
    return Qwen2_5_VLConfig(text_config=text_config, vision_config=vision_config, tie_word_embeddings=False, **SPECIAL)


def build(out: Path, seed: int, scale: str) -> None:
    import torch
    from transformers import GenerationConfig, Qwen2_5_VLForConditionalGeneration

    torch.manual_seed(seed)
    config = build_config(scale)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    # HF initialises norms to one and biases to zero; perturbing them too exercises every weight.
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):
                parameter.normal_(0.0, INIT_STD)
            elif "norm" in name or "ln_q" in name:
                parameter.uniform_(0.5, 1.5)
    model.generation_config = GenerationConfig(bos_token_id=BOS, eos_token_id=[EOS, PAD], pad_token_id=PAD, do_sample=False)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    write_qwen2_5_vl_tokenizer(out)
    preprocessor = {
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": "Qwen2_5_VLProcessor",
        "do_resize": True,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "do_convert_rgb": True,
        "resample": 3,
        "min_pixels": MIN_PIXELS,
        "max_pixels": MAX_PIXELS,
        "size": {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS},
        "patch_size": 14,
        "temporal_patch_size": 2,
        "merge_size": 2,
    }
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2) + "\n")
    parameters = sum(p.numel() for p in model.parameters())
    print(f"[random_qwen2_5_vl] {scale} seed {seed}: {parameters / 1e6:.1f}M parameters -> {out}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", choices=sorted(SCALES), default="tiny")
    args = parser.parse_args()
    build(args.out, args.seed, args.scale)


if __name__ == "__main__":
    main()
