#!/usr/bin/env python3
"""Export MedReasoner-7B (a Qwen2.5-VL-7B fine-tune) to the ONNX layout MedReasoner
Workstation loads with @huggingface/transformers 4.3.1 over onnxruntime-node:

  <out>/config.json                  nested text_config (transformers.js needs it)
  <out>/generation_config.json
  <out>/preprocessor_config.json     Qwen2VLImageProcessor with processor_class, the checkpoint's min/max pixels
  <out>/tokenizer.json, tokenizer_config.json (with the chat template inside)
  <out>/prompt.json                  the exact prompt MedReasoner was trained on, read from the
                                     MedReasoner source (eval/infer.py, prepare_message) or copied
                                     from --prompt-file
  <out>/onnx/embed_tokens{s}.onnx(+_data), vision_encoder{s}.onnx(+_data),
  <out>/onnx/decoder_model_merged{s}.onnx(+_data)
  <out>/manifest.json                every file with its sha256 and size

Variants ({s} = file suffix): fp32 (reference), fp16 (GPU), q4f16 (4-bit decoder, fp16
activations), q4 (4-bit decoder, fp32 embedding and vision encoder; the CPU variant).

The vision encoder takes any image grid (image_grid_thw is an input, not a traced constant):
crm_export/vision_encoder.py rewrites the grid-dependent parts of Qwen2.5-VL's vision forward as
tensor ops over HF's own weights, so slices go in at their native aspect (smart_resize).

Memory: the float32 torch model is used for the trace and for --check's PyTorch reference
(computed before conversion), then freed; each variant is then written from a fresh load of
the fp32 ONNX files, one session at a time. See native-models/README.md for the figures.
"""
from __future__ import annotations

import argparse
import ast
import gc
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DTYPE_SUFFIX = {"fp32": "", "fp16": "_fp16", "q4": "_q4", "q4f16": "_q4f16"}
# Which dtype each session has in each variant (must match native-models/medreasoner-7b/manifest.json).
# embed_tokens and vision_encoder share a float type: transformers.js copies the image features
# into the token embeddings' typed array.
VARIANTS = {
    "fp32": {"embed_tokens": "fp32", "vision_encoder": "fp32", "decoder_model_merged": "fp32"},
    "fp16": {"embed_tokens": "fp16", "vision_encoder": "fp16", "decoder_model_merged": "fp16"},
    "q4f16": {"embed_tokens": "fp16", "vision_encoder": "fp16", "decoder_model_merged": "q4f16"},
    "q4": {"embed_tokens": "fp32", "vision_encoder": "fp32", "decoder_model_merged": "q4"},
}
SESSIONS = ("embed_tokens", "vision_encoder", "decoder_model_merged")
ANSWER_EXAMPLE_FALLBACK = "{'bbox': [xmin, ymin, xmax, ymax], 'points_1': [x1, y1], 'points_2': [x2, y2]}"


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def log(message: str) -> None:
    # The running peak on every line lets bench/crm-export-memory.ts attribute the peak to a stage.
    print(f"[export_medreasoner] {message} (peak RSS {peak_rss_mb():.0f} MB)", flush=True)


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




def copy_prompt_json(out: Path, prompt_file: Path) -> None:
    prompt = json.loads(prompt_file.read_text(encoding="utf-8"))
    if prompt.get("format") != "medreasoner-prompt" or prompt.get("fill") != "python-format" or not isinstance(prompt.get("variants"), dict):
        raise SystemExit(f"{prompt_file} is not a prompt.json in the app's format (format medreasoner-prompt, fill python-format, variants)")
    if prompt.get("default") not in prompt["variants"]:
        raise SystemExit(f"{prompt_file}: default variant {prompt.get('default')!r} is not among {list(prompt['variants'])}")
    (out / "prompt.json").write_text(json.dumps(prompt, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"prompt.json copied from {prompt_file}")


# --------------------------------------------------------------------------- model parts
def model_parts(model):
    """(visual, text model, lm_head): 4.5x and 5.x both nest them under .model."""
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


def text_config_object(model):
    config = model.config
    return getattr(config, "text_config", None) or config


# --------------------------------------------------------------------------- export
def onnx_export(module, inputs, path: Path, input_names, output_names, dynamic_axes, opset: int) -> None:
    from crm_export.weights import export_with_external_weights

    export_with_external_weights(module, inputs, path, opset_version=opset, input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes)


def export_sessions(model, processor, workdir: Path, opset: int, device) -> dict[str, Path]:
    import numpy as np
    import torch
    from PIL import Image
    from crm_export.decoder import MergedDecoder
    from crm_export.vision_encoder import DynamicGridVisionEncoder

    visual, text_model, lm_head = model_parts(model)
    text_config = text_config_object(model)
    layers, kv_heads = int(text_config.num_hidden_layers), int(text_config.num_key_value_heads)
    head_dim = int(getattr(text_config, "head_dim", None) or text_config.hidden_size // text_config.num_attention_heads)
    hidden = int(text_config.hidden_size)
    paths = {name: workdir / name / f"{name}.onnx" for name in SESSIONS}

    class EmbedTokens(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = text_model.embed_tokens

        def forward(self, input_ids):
            return self.embed(input_ids)

    ids = torch.tensor([[1, 2, 3, 4]], dtype=torch.long, device=device)
    axes = {0: "batch_size", 1: "sequence_length"}
    onnx_export(EmbedTokens(), (ids,), paths["embed_tokens"], ["input_ids"], ["inputs_embeds"], {"input_ids": axes, "inputs_embeds": axes}, opset)
    log("embed_tokens exported")

    # Traced at a non-square grid whose sides are not multiples of the window, so no size
    # happens to coincide with a special case; the graph itself takes any grid.
    pil = Image.fromarray(np.random.default_rng(0).integers(0, 255, (196, 252, 3), dtype=np.uint8))
    vision_inputs = processor.image_processor(images=[pil], return_tensors="pt")
    pixel_values = vision_inputs["pixel_values"].to(device=device, dtype=torch.float32)
    grid_thw = vision_inputs["image_grid_thw"].to(device=device, dtype=torch.long)
    onnx_export(
        DynamicGridVisionEncoder(visual).eval(), (pixel_values, grid_thw), paths["vision_encoder"],
        ["pixel_values", "image_grid_thw"], ["image_features"],
        {"pixel_values": {0: "num_patches"}, "image_grid_thw": {0: "num_images"}, "image_features": {0: "num_image_tokens"}}, opset,
    )
    log(f"vision_encoder exported (dynamic image grid; traced at {grid_thw.tolist()})")

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
    onnx_export(
        MergedDecoder(text_model, lm_head, text_config).eval(), (embeds, mask, positions, keep, *past), paths["decoder_model_merged"],
        ["inputs_embeds", "attention_mask", "position_ids", "num_logits_to_keep", *past_names], ["logits", *present_names], dynamic, opset,
    )
    log("decoder_model_merged exported")
    return paths


def convert(sources: dict[str, Path], out: Path, variants: list[str], block_size: int) -> None:
    from crm_export.convert import write_variant

    onnx_dir = out / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    needed = sorted({(session, dtype) for v in variants for session, dtype in VARIANTS[v].items()})
    for session, dtype in needed:
        target = onnx_dir / f"{session}{DTYPE_SUFFIX[dtype]}.onnx"
        log(f"writing {target.relative_to(out)} ...")
        write_variant(sources[session], target, session, dtype, block_size)


def capture_configs(model, processor) -> dict:
    """Everything write_configs needs, taken before the torch model is freed."""
    config = model.config.to_dict()
    config["text_config"] = text_config_dict(model.config)
    config["model_type"] = "qwen2_5_vl"
    config["architectures"] = ["Qwen2_5_VLForConditionalGeneration"]
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model.generation_config.to_json_file(str(Path(tmp) / "generation_config.json"))
        processor.save_pretrained(tmp)
        for path in Path(tmp).iterdir():
            files[path.name] = path.read_text(encoding="utf-8")
    template = getattr(processor, "chat_template", None) or getattr(processor.tokenizer, "chat_template", None)
    return {"config": config, "files": files, "chat_template": template}


def write_configs(out: Path, captured: dict, variants: list[str]) -> None:
    config = dict(captured["config"])
    onnx_files = sorted({f"{s}{DTYPE_SUFFIX[d]}.onnx" for v in variants for s, d in VARIANTS[v].items()})
    config["transformers.js_config"] = {"use_external_data_format": {name: 1 for name in onnx_files}}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    files = captured["files"]
    (out / "generation_config.json").write_text(files["generation_config.json"])
    if "tokenizer.json" not in files:
        raise SystemExit("the processor saved no tokenizer.json (a fast tokenizer is required)")
    (out / "tokenizer.json").write_text(files["tokenizer.json"], encoding="utf-8")
    tokenizer_config = json.loads(files["tokenizer_config.json"])
    # transformers.js reads the chat template only from tokenizer_config.json; 5.x saves it beside.
    template = captured["chat_template"]
    if not template and "chat_template.json" in files:
        template = json.loads(files["chat_template.json"]).get("chat_template")
    if not template and "chat_template.jinja" in files:
        template = files["chat_template.jinja"]
    if not template:
        raise SystemExit("no chat template found in the checkpoint's processor or tokenizer")
    tokenizer_config["chat_template"] = template
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    saved = files.get("preprocessor_config.json") or files.get("processor_config.json")
    preprocessor = json.loads(saved)
    preprocessor = preprocessor.get("image_processor", preprocessor)
    size = preprocessor.get("size") or {}
    preprocessor["processor_class"] = "Qwen2_5_VLProcessor"
    preprocessor["image_processor_type"] = "Qwen2VLImageProcessor"
    # transformers.js reads min/max_pixels first and size.shortest/longest_edge second.
    preprocessor["min_pixels"] = preprocessor.get("min_pixels") or size.get("shortest_edge")
    preprocessor["max_pixels"] = preprocessor.get("max_pixels") or size.get("longest_edge")
    preprocessor.pop("medreasoner_fixed_size", None)
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2) + "\n")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(16 * 1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def session_signatures(text: dict) -> dict:
    """The checkpoint's own tensor signatures (electron/host/models/signatures.ts qwen25vlSignatures
    with this model's dimensions): the app compares every session's names with these on load."""
    layers, kv, head_dim, hidden, vocab = text["num_hidden_layers"], text["num_key_value_heads"], text["head_dim"], text["hidden_size"], text["vocab_size"]
    past = [{"name": f"past_key_values.{i}.{k}", "type": "float", "dims": ["batch_size", kv, "past_sequence_length", head_dim]} for i in range(layers) for k in ("key", "value")]
    present = [{"name": f"present.{i}.{k}", "type": "float", "dims": ["batch_size", kv, "total_sequence_length", head_dim]} for i in range(layers) for k in ("key", "value")]
    return {
        "embed_tokens": {
            "inputs": [{"name": "input_ids", "type": "int64", "dims": ["batch_size", "sequence_length"]}],
            "outputs": [{"name": "inputs_embeds", "type": "float", "dims": ["batch_size", "sequence_length", hidden]}],
        },
        "vision_encoder": {
            "inputs": [
                {"name": "pixel_values", "type": "float", "dims": ["num_patches", 1176]},
                {"name": "image_grid_thw", "type": "int64", "dims": ["num_images", 3]},
            ],
            "outputs": [{"name": "image_features", "type": "float", "dims": ["num_image_tokens", hidden]}],
        },
        "decoder_model_merged": {
            "inputs": [
                {"name": "inputs_embeds", "type": "float", "dims": ["batch_size", "sequence_length", hidden]},
                {"name": "attention_mask", "type": "int64", "dims": ["batch_size", "total_sequence_length"]},
                {"name": "position_ids", "type": "int64", "dims": [3, "batch_size", "sequence_length"]},
                *past,
                {"name": "num_logits_to_keep", "type": "int64", "dims": []},
            ],
            "outputs": [{"name": "logits", "type": "float", "dims": ["batch_size", "sequence_length", vocab]}, *present],
        },
    }


def write_manifest(out: Path, variants: list[str], checkpoint: str, revision: str | None, text: dict) -> None:
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
    template["sessions"] = session_signatures(text)
    (out / "manifest.json").write_text(json.dumps(template, indent=2) + "\n")
    log(f"manifest.json written ({len(files)} files pinned)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="Hugging Face id or local folder of the MedReasoner-7B checkpoint")
    parser.add_argument("--revision", default=None, help="checkpoint revision (commit) to pin")
    prompt = parser.add_mutually_exclusive_group(required=True)
    prompt.add_argument("--medreasoner-source", type=Path, help="a checkout of github.com/PRIS-CV/MedReasoner (its eval/infer.py holds the prompt)")
    prompt.add_argument("--prompt-file", type=Path, help="a prompt.json in the app's format (instead of --medreasoner-source)")
    parser.add_argument("--out", required=True, type=Path, help="export folder (created)")
    parser.add_argument("--variants", default="fp16,q4", help=f"comma-separated, of {', '.join(VARIANTS)} (default fp16,q4)")
    parser.add_argument("--device", default="cpu", help="torch device for the trace and the reference (cpu or cuda)")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--block-size", type=int, default=32, help="4-bit quantisation block size")
    parser.add_argument("--check", action="store_true", help="run every variant with the app's inputs and compare its greedy tokens with PyTorch's")
    parser.add_argument("--check-tokens", type=int, default=8, help="greedy tokens compared by --check (default 8)")
    args = parser.parse_args()

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    if args.medreasoner_source and not (args.medreasoner_source / "eval" / "infer.py").exists():
        raise SystemExit(f"{args.medreasoner_source}/eval/infer.py not found: clone github.com/PRIS-CV/MedReasoner")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.prompt_file:
        copy_prompt_json(args.out, args.prompt_file)
    else:
        write_prompt_json(args.out, args.medreasoner_source)

    import torch
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration
    from crm_export.check import CheckCase, check_variant, torch_reference

    device = torch.device(args.device)
    log(f"loading {args.checkpoint} (float32, eager attention) on {device} ...")
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
        args.checkpoint, dtype=torch.float32, attn_implementation="eager", revision=args.revision
    ).to(device).eval()
    processor = AutoProcessor.from_pretrained(args.checkpoint, revision=args.revision)
    log(f"loaded: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters")
    captured = capture_configs(model, processor)
    reference = None
    if args.check:
        case = CheckCase.from_prompt_json(args.out / "prompt.json", args.check_tokens)
        reference = torch_reference(model, processor, case)
        log(f"PyTorch reference: {len(reference.tokens)} greedy tokens {reference.tokens}")
    with tempfile.TemporaryDirectory(dir=args.out, prefix=".work-") as tmp:
        sources = export_sessions(model, processor, Path(tmp), args.opset, device)
        del model
        gc.collect()
        log("torch model freed before conversion")
        convert(sources, args.out, variants, args.block_size)
    write_configs(args.out, captured, variants)
    write_manifest(args.out, variants, args.checkpoint, args.revision, captured["config"]["text_config"])
    if reference is not None:
        failed = []
        for variant in variants:
            agreement = check_variant(args.out, {s: f"{s}{DTYPE_SUFFIX[d]}.onnx" for s, d in VARIANTS[variant].items()}, reference)
            log(f"{variant}: ONNX tokens {agreement.tokens}; {agreement.matching}/{len(reference.tokens)} agree with PyTorch")
            if variant == "fp32" and agreement.matching != len(reference.tokens):
                failed.append(variant)
        if failed:
            raise SystemExit(f"{', '.join(failed)}: the export's greedy tokens differ from PyTorch's: do not install it")
    log(f"done: install with  medreasoner models install medreasoner-7b --from {args.out}")


if __name__ == "__main__":
    sys.exit(main())
