#!/usr/bin/env python3
"""Export MedReasoner-7B (a Qwen2.5-VL-7B fine-tune) to the ONNX layout MedReasoner
Workstation loads with @huggingface/transformers 4.3.1 over onnxruntime-node:

  <out>/config.json                  nested text_config (transformers.js needs it)
  <out>/generation_config.json
  <out>/preprocessor_config.json     processor_class, and medreasoner_fixed_size (see below)
  <out>/tokenizer.json, tokenizer_config.json (with the chat template inside)
  <out>/prompt.json                  the exact prompt MedReasoner was trained on, read from
                                     the MedReasoner source (eval/infer.py, prepare_message)
  <out>/onnx/embed_tokens{s}.onnx(+_data), vision_encoder{s}.onnx(+_data),
  <out>/onnx/decoder_model_merged{s}.onnx(+_data)
  <out>/manifest.json                every file with its sha256 and size

Variants ({s} = file suffix): fp16 (GPU), q4f16 (4-bit decoder, fp16 activations),
q4 (4-bit decoder, fp32 embedding and vision encoder; the CPU variant).

The vision tower is traced at ONE image grid (TorchScript bakes the grid-dependent loops of
Qwen2.5-VL's windowed attention and rotary embedding), so the export fixes the image size
(--image-size, a multiple of 28; 504 reproduces what Qwen's processor does to a 512x512
slice) and records it as preprocessor_config.json "medreasoner_fixed_size": the app resizes
every slice to that square first and maps the answer's coordinates back per axis.

Runs on a machine with internet access (checkpoint download), Python 3.10+, and memory for a
float32 7B model (about 64 GB of RAM for the trace; --device cuda puts the weights on a GPU
with >= 40 GB instead). Not run in the app's CI: see native-models/README.md for the exact
commands and what to verify afterwards.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DTYPE_SUFFIX = {"fp32": "", "fp16": "_fp16", "q4": "_q4", "q4f16": "_q4f16"}
# Which dtype each session has in each variant (must match native-models/medreasoner-7b/manifest.json).
VARIANTS = {
    "fp16": {"embed_tokens": "fp16", "vision_encoder": "fp16", "decoder_model_merged": "fp16"},
    "q4f16": {"embed_tokens": "fp16", "vision_encoder": "fp16", "decoder_model_merged": "q4f16"},
    "q4": {"embed_tokens": "fp32", "vision_encoder": "fp32", "decoder_model_merged": "q4"},
}
ANSWER_EXAMPLE_FALLBACK = "{'bbox': [xmin, ymin, xmax, ymax], 'points_1': [x1, y1], 'points_2': [x2, y2]}"


def log(message: str) -> None:
    print(f"[export_medreasoner] {message}", flush=True)


# --------------------------------------------------------------------------- prompt.json
def read_prompt_templates(infer_py: Path) -> dict:
    """The two user_prompt templates of prepare_message() and the literal passed as Answer=.

    Read with the ast module (the adjacent string literals are one constant after parsing),
    so the text is exactly what the seed formats, braces and all; nothing is executed.
    """
    tree = ast.parse(infer_py.read_text(encoding="utf-8"), filename=str(infer_py))
    function = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "prepare_message"), None)
    if function is None:
        raise SystemExit(f"{infer_py}: no function prepare_message (is this PRIS-CV/MedReasoner eval/infer.py?)")
    templates: list[str] = []
    answer = None
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "user_prompt" for t in node.targets):
            if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                raise SystemExit(f"{infer_py}:{node.lineno}: user_prompt is not a plain string literal; update this script")
            templates.append(node.value.value)
        if isinstance(node, ast.keyword) and node.arg == "Answer" and isinstance(node.value, ast.Constant):
            answer = node.value.value
    if len(templates) != 2:
        raise SystemExit(f"{infer_py}: expected two user_prompt templates (think, no-think), found {len(templates)}")
    think, no_think = templates  # source order: the `if think == "True"` branch first
    for name, text in (("think", think), ("no_think", no_think)):
        if "{Question}" not in text or "{Answer}" not in text:
            raise SystemExit(f"{infer_py}: the {name} template lacks the {{Question}} or {{Answer}} slot")
    if "<think>" not in think or "<think>" in no_think:
        raise SystemExit(f"{infer_py}: the templates are not in the expected order (think first)")
    return {"think": think, "no_think": no_think, "answer": answer or ANSWER_EXAMPLE_FALLBACK}


def git_commit(path: Path) -> str | None:
    try:
        return subprocess.check_output(["git", "-C", str(path), "rev-parse", "HEAD"], text=True).strip()
    except Exception:
        return None


def write_prompt_json(out: Path, source: Path) -> None:
    infer_py = source / "eval" / "infer.py"
    prompts = read_prompt_templates(infer_py)
    commit = git_commit(source)
    prompt = {
        "format": "medreasoner-prompt",
        "version": 1,
        "source": f"PRIS-CV/MedReasoner eval/infer.py prepare_message" + (f" @ {commit}" if commit else " (commit unknown)"),
        "fill": "python-format",
        "answerExample": prompts["answer"],
        "default": "think",
        "variants": {"think": prompts["think"], "no_think": prompts["no_think"]},
    }
    (out / "prompt.json").write_text(json.dumps(prompt, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"prompt.json written from {infer_py}")


# --------------------------------------------------------------------------- model parts
def model_parts(model):
    """(visual, text model, lm_head) across transformers versions (4.52 nests them under .model)."""
    inner = model.model
    if hasattr(inner, "language_model"):
        return inner.visual, inner.language_model, model.lm_head
    return model.visual, inner, model.lm_head


def text_config_dict(config) -> dict:
    data = config.to_dict()
    if isinstance(data.get("text_config"), dict) and data["text_config"].get("hidden_size"):
        text = dict(data["text_config"])
    else:
        keys = [
            "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
            "vocab_size", "max_position_embeddings", "rms_norm_eps", "rope_theta", "rope_scaling", "hidden_act",
            "sliding_window", "use_sliding_window", "max_window_layers", "attention_dropout", "tie_word_embeddings",
            "bos_token_id", "eos_token_id",
        ]
        text = {k: data[k] for k in keys if k in data}
    text["model_type"] = "qwen2_5_vl_text"
    text.setdefault("head_dim", text["hidden_size"] // text["num_attention_heads"])
    return text


# --------------------------------------------------------------------------- export
def fix_image_size(processor, size: int) -> None:
    """Make Qwen's processor resize every image to exactly size x size pixels' worth of patches."""
    image_processor = processor.image_processor
    image_processor.min_pixels = size * size
    image_processor.max_pixels = size * size
    if isinstance(getattr(image_processor, "size", None), dict):
        image_processor.size = {"shortest_edge": size * size, "longest_edge": size * size}


def export_sessions(args, workdir: Path):
    import torch
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

    device = torch.device(args.device)
    log(f"loading {args.checkpoint} (float32, eager attention) on {device} ...")
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
        args.checkpoint, torch_dtype=torch.float32, attn_implementation="eager", revision=args.revision
    ).to(device).eval()
    processor = AutoProcessor.from_pretrained(args.checkpoint, revision=args.revision)
    fix_image_size(processor, args.image_size)
    visual, text_model, lm_head = model_parts(model)
    text_cfg = text_config_dict(model.config)
    layers, kv_heads, head_dim = text_cfg["num_hidden_layers"], text_cfg["num_key_value_heads"], text_cfg["head_dim"]
    hidden = text_cfg["hidden_size"]

    # ---- embed_tokens
    class EmbedTokens(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = text_model.embed_tokens

        def forward(self, input_ids):
            return self.embed(input_ids)

    ids = torch.tensor([[1, 2, 3, 4]], dtype=torch.long, device=device)
    torch.onnx.export(
        EmbedTokens(), (ids,), str(workdir / "embed_tokens.onnx"), opset_version=args.opset,
        input_names=["input_ids"], output_names=["inputs_embeds"],
        dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"}, "inputs_embeds": {0: "batch_size", 1: "sequence_length"}},
        dynamo=False,
    )
    log("embed_tokens exported")

    # ---- vision_encoder, traced at the fixed grid
    size = args.image_size
    grid = size // 14
    image = torch.rand(1, 3, size, size)
    from PIL import Image
    import numpy as np

    pil = Image.fromarray((image[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8))
    vision_inputs = processor.image_processor(images=[pil], return_tensors="pt")
    pixel_values = vision_inputs["pixel_values"].to(device)
    grid_thw = vision_inputs["image_grid_thw"].to(device)
    if grid_thw.tolist() != [[1, grid, grid]]:
        raise SystemExit(f"the processor made grid {grid_thw.tolist()} for {size}x{size}; expected [[1, {grid}, {grid}]]")

    class VisionEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.visual = visual

        def forward(self, pixel_values, image_grid_thw):
            # image_grid_thw is consumed (so the session declares it) but the grid is the traced one.
            features = self.visual(pixel_values, grid_thw=image_grid_thw)
            return features + 0 * image_grid_thw.sum().to(features.dtype)

    torch.onnx.export(
        VisionEncoder(), (pixel_values, grid_thw), str(workdir / "vision_encoder.onnx"), opset_version=args.opset,
        input_names=["pixel_values", "image_grid_thw"], output_names=["image_features"],
        dynamic_axes={"pixel_values": {0: "num_patches"}, "image_grid_thw": {0: "num_images"}, "image_features": {0: "num_image_tokens"}},
        dynamo=False,
    )
    log(f"vision_encoder exported at a fixed {grid}x{grid} patch grid ({size}x{size} px)")

    # ---- decoder_model_merged: inputs_embeds + attention_mask + 3D position_ids + KV cache
    from transformers import DynamicCache

    class Decoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.text_model = text_model
            self.lm_head = lm_head

        def forward(self, inputs_embeds, attention_mask, position_ids, num_logits_to_keep, *past):
            batch, length = inputs_embeds.shape[0], inputs_embeds.shape[1]
            total = attention_mask.shape[1]
            past_length = total - length
            # Our own additive 4D mask (causal + padding), so transformers' mask helpers, whose
            # shape checks TorchScript would bake, are not traced.
            query = torch.arange(length, device=inputs_embeds.device) + past_length
            key = torch.arange(total, device=inputs_embeds.device)
            allowed = (key[None, :] <= query[:, None])[None, None] & attention_mask[:, None, None, :].bool()
            minimum = torch.finfo(inputs_embeds.dtype).min
            mask = torch.zeros(batch, 1, length, total, dtype=inputs_embeds.dtype, device=inputs_embeds.device).masked_fill(~allowed, minimum)
            cache = DynamicCache.from_legacy_cache(tuple((past[2 * i], past[2 * i + 1]) for i in range(layers)))
            out = self.text_model(
                inputs_embeds=inputs_embeds, attention_mask=mask, position_ids=position_ids,
                past_key_values=cache, use_cache=True, cache_position=query, return_dict=True,
            )
            hidden_states = out.last_hidden_state
            hidden_states = hidden_states[:, hidden_states.shape[1] - num_logits_to_keep :, :]
            logits = self.lm_head(hidden_states).float()
            present = out.past_key_values
            legacy = present.to_legacy_cache() if hasattr(present, "to_legacy_cache") else present
            flat = [t for pair in legacy for t in pair]
            return (logits, *flat)

    past_len, length = 5, 3
    embeds = torch.randn(1, length, hidden, device=device)
    mask = torch.ones(1, past_len + length, dtype=torch.long, device=device)
    positions = (torch.arange(length, device=device) + past_len).view(1, 1, -1).expand(3, 1, length).contiguous()
    keep = torch.tensor(1, dtype=torch.long, device=device)
    past = [torch.randn(1, kv_heads, past_len, head_dim, device=device) for _ in range(2 * layers)]
    past_names = [f"past_key_values.{i}.{kind}" for i in range(layers) for kind in ("key", "value")]
    present_names = [f"present.{i}.{kind}" for i in range(layers) for kind in ("key", "value")]
    dynamic = {
        "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {1: "batch_size", 2: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for name in past_names:
        dynamic[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in present_names:
        dynamic[name] = {0: "batch_size", 2: "total_sequence_length"}
    decoder_dir = workdir / "decoder"
    decoder_dir.mkdir(exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            Decoder(), (embeds, mask, positions, keep, *past), str(decoder_dir / "decoder_model_merged.onnx"),
            opset_version=args.opset, input_names=["inputs_embeds", "attention_mask", "position_ids", "num_logits_to_keep", *past_names],
            output_names=["logits", *present_names], dynamic_axes=dynamic, dynamo=False,
        )
    log("decoder_model_merged exported")
    return model, processor, text_cfg


def save_external(model_proto, path: Path) -> None:
    """One model file plus <name>.onnx_data holding every initializer (the layout the manifest lists)."""
    import onnx

    for stale in (path, Path(str(path) + "_data")):
        if stale.exists():
            stale.unlink()
    onnx.save_model(model_proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=path.name + "_data", size_threshold=0)


def convert(workdir: Path, out: Path, variants: list[str], block_size: int) -> None:
    import onnx
    from onnxconverter_common import float16

    onnx_dir = out / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    sources = {
        "embed_tokens": workdir / "embed_tokens.onnx",
        "vision_encoder": workdir / "vision_encoder.onnx",
        "decoder_model_merged": workdir / "decoder" / "decoder_model_merged.onnx",
    }
    needed = {(session, dtype) for v in variants for session, dtype in VARIANTS[v].items()}
    fp16_cache: dict[str, object] = {}

    def fp16_model(session: str):
        if session not in fp16_cache:
            model = onnx.load(str(sources[session]))
            # Type-changing conversion of the whole graph: inputs_embeds, image features, logits and
            # the KV cache become float16, which transformers.js expects of a fp16 session.
            fp16_cache[session] = float16.convert_float_to_float16(model, keep_io_types=False, disable_shape_infer=True)
        return fp16_cache[session]

    for session, dtype in sorted(needed):
        target = onnx_dir / f"{session}{DTYPE_SUFFIX[dtype]}.onnx"
        log(f"writing {target.relative_to(out)} ...")
        if dtype == "fp32":
            save_external(onnx.load(str(sources[session])), target)
        elif dtype == "fp16":
            save_external(fp16_model(session), target)
        elif dtype in ("q4", "q4f16"):
            from onnxruntime.quantization.matmul_4bits_quantizer import MatMul4BitsQuantizer

            base = onnx.load(str(sources[session])) if dtype == "q4" else fp16_model(session)
            quantizer = MatMul4BitsQuantizer(base, block_size=block_size, is_symmetric=True)
            quantizer.process()
            save_external(quantizer.model.model, target)
        else:
            raise SystemExit(f"unknown dtype {dtype}")


def write_configs(out: Path, model, processor, text_cfg: dict, image_size: int, variants: list[str]) -> None:
    config = model.config.to_dict()
    config["text_config"] = text_cfg
    config["model_type"] = "qwen2_5_vl"
    config["architectures"] = ["Qwen2_5_VLForConditionalGeneration"]
    onnx_files = sorted({f"{s}{DTYPE_SUFFIX[d]}.onnx" for v in variants for s, d in VARIANTS[v].items()})
    config["transformers.js_config"] = {"use_external_data_format": {name: 1 for name in onnx_files}}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    model.generation_config.to_json_file(str(out / "generation_config.json"))

    with tempfile.TemporaryDirectory() as tmp:
        processor.save_pretrained(tmp)
        tokenizer_json = Path(tmp) / "tokenizer.json"
        if not tokenizer_json.exists():
            raise SystemExit("the processor saved no tokenizer.json (a fast tokenizer is required)")
        shutil.copy(tokenizer_json, out / "tokenizer.json")
        tokenizer_config = json.loads((Path(tmp) / "tokenizer_config.json").read_text())
        # transformers.js reads the chat template only from tokenizer_config.json.
        template = getattr(processor, "chat_template", None) or getattr(processor.tokenizer, "chat_template", None)
        chat_template_json = Path(tmp) / "chat_template.json"
        if not template and chat_template_json.exists():
            template = json.loads(chat_template_json.read_text()).get("chat_template")
        if not template:
            raise SystemExit("no chat template found in the checkpoint's processor or tokenizer")
        tokenizer_config["chat_template"] = template
        (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2, ensure_ascii=False) + "\n")
        preprocessor = json.loads((Path(tmp) / "preprocessor_config.json").read_text())
    preprocessor["processor_class"] = "Qwen2_5_VLProcessor"
    preprocessor["image_processor_type"] = "Qwen2VLImageProcessor"
    preprocessor["min_pixels"] = image_size * image_size
    preprocessor["max_pixels"] = image_size * image_size
    preprocessor.pop("size", None)  # min/max_pixels rule; a stale "size" would override them in some readers
    preprocessor["medreasoner_fixed_size"] = image_size
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2) + "\n")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(16 * 1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(out: Path, variants: list[str], checkpoint: str, revision: str | None) -> None:
    template = json.loads((HERE / "medreasoner-7b" / "manifest.json").read_text())
    template["variants"] = [v for v in template["variants"] if v["name"] in variants]
    files = []
    for entry in template["files"]:
        wanted = entry.get("variants")
        if wanted is not None:
            wanted = [v for v in wanted if v in variants]
            if not wanted:
                continue
            entry["variants"] = wanted
        path = out / entry["path"]
        if not path.exists():
            raise SystemExit(f"expected {entry['path']} in the export, it is missing")
        entry["sha256"] = sha256(path)
        entry["size"] = path.stat().st_size
        files.append(entry)
    template["files"] = files
    names = [v["name"] for v in template["variants"]]
    for key in ("cpu", "cuda"):
        if template["defaultVariant"][key] not in names:
            template["defaultVariant"][key] = names[0]
    template["source"]["checkpoint"] = checkpoint
    template["source"]["revision"] = revision
    (out / "manifest.json").write_text(json.dumps(template, indent=2) + "\n")
    log(f"manifest.json written ({len(files)} files pinned)")


def check_against_torch(out: Path, model, processor, text_cfg: dict, image_size: int, variant: str) -> None:
    """Runs the exported sessions (onnxruntime, CPU) on one synthetic image and prompt the way
    transformers.js does (embed tokens, put the image features at the image-pad positions,
    mRoPE position ids, empty KV cache) and compares the next-token logits with PyTorch's."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from PIL import Image

    rng = np.random.default_rng(0)
    pil = Image.fromarray(rng.integers(0, 255, (image_size, image_size, 3), dtype=np.uint8))
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe the image."}]}]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = processor(text=[text], images=[pil], return_tensors="pt")
    with torch.no_grad():
        reference = model(**{k: v.to(model.device) for k, v in inputs.items()}).logits[0, -1].float().cpu().numpy()

    dtypes = VARIANTS[variant]
    sessions = {
        name: ort.InferenceSession(str(out / "onnx" / f"{name}{DTYPE_SUFFIX[dtype]}.onnx"), providers=["CPUExecutionProvider"])
        for name, dtype in dtypes.items()
    }
    activation = np.float32 if dtypes["embed_tokens"] == "fp32" else np.float16
    input_ids = inputs["input_ids"].numpy()
    embeds = sessions["embed_tokens"].run(None, {"input_ids": input_ids})[0]
    features = sessions["vision_encoder"].run(None, {"pixel_values": inputs["pixel_values"].numpy().astype(activation), "image_grid_thw": inputs["image_grid_thw"].numpy()})[0]
    image_positions = input_ids[0] == model.config.image_token_id
    if int(image_positions.sum()) != features.shape[0]:
        raise SystemExit(f"{int(image_positions.sum())} image tokens in the prompt but {features.shape[0]} image features")
    embeds[0, image_positions] = features
    owner = model.model if hasattr(model.model, "get_rope_index") else model
    position_ids, _ = owner.get_rope_index(inputs["input_ids"], image_grid_thw=inputs["image_grid_thw"], attention_mask=inputs["attention_mask"])
    decoder_float = np.float32 if dtypes["decoder_model_merged"] in ("fp32", "q4") else np.float16
    feeds = {
        "inputs_embeds": embeds.astype(decoder_float),
        "attention_mask": inputs["attention_mask"].numpy().astype(np.int64),
        "position_ids": position_ids.numpy().astype(np.int64),
        "num_logits_to_keep": np.array(1, dtype=np.int64),
    }
    for i in range(text_cfg["num_hidden_layers"]):
        for kind in ("key", "value"):
            feeds[f"past_key_values.{i}.{kind}"] = np.zeros((1, text_cfg["num_key_value_heads"], 0, text_cfg["head_dim"]), dtype=decoder_float)
    logits = sessions["decoder_model_merged"].run(["logits"], feeds)[0][0, -1].astype(np.float32)
    error = float(np.abs(logits - reference).max() / (np.abs(reference).max() + 1e-6))
    log(f"{variant}: next token PyTorch {int(reference.argmax())}, ONNX {int(logits.argmax())}; max relative logit difference {error:.2e}")
    if int(reference.argmax()) != int(logits.argmax()):
        raise SystemExit("the export predicts a different next token than PyTorch: do not install it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="Hugging Face id or local folder of the MedReasoner-7B checkpoint")
    parser.add_argument("--revision", default=None, help="checkpoint revision (commit) to pin")
    parser.add_argument("--medreasoner-source", required=True, type=Path, help="a checkout of github.com/PRIS-CV/MedReasoner (for eval/infer.py)")
    parser.add_argument("--out", required=True, type=Path, help="export folder (created)")
    parser.add_argument("--variants", default="fp16,q4", help="comma-separated: fp16, q4f16, q4 (default fp16,q4)")
    parser.add_argument("--image-size", type=int, default=504, help="fixed image size, a multiple of 28 (default 504)")
    parser.add_argument("--device", default="cpu", help="torch device for the trace (cpu or cuda)")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--block-size", type=int, default=32, help="4-bit quantisation block size")
    parser.add_argument("--check", action="store_true", help="compare each variant's next-token logits with PyTorch on one image")
    args = parser.parse_args()

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    if args.image_size % 28 != 0:
        raise SystemExit("--image-size must be a multiple of 28")
    if not (args.medreasoner_source / "eval" / "infer.py").exists():
        raise SystemExit(f"{args.medreasoner_source}/eval/infer.py not found: clone github.com/PRIS-CV/MedReasoner")
    args.out.mkdir(parents=True, exist_ok=True)
    write_prompt_json(args.out, args.medreasoner_source)
    with tempfile.TemporaryDirectory(dir=args.out, prefix=".work-") as tmp:
        model, processor, text_cfg = export_sessions(args, Path(tmp))
        convert(Path(tmp), args.out, variants, args.block_size)
    write_configs(args.out, model, processor, text_cfg, args.image_size, variants)
    write_manifest(args.out, variants, args.checkpoint, args.revision)
    if args.check:
        for variant in variants:
            check_against_torch(args.out, model, processor, text_cfg, args.image_size, variant)
    log(f"done: install with  medreasoner models install medreasoner-7b --from {args.out}")


if __name__ == "__main__":
    sys.exit(main())
