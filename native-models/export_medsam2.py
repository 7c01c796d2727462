#!/usr/bin/env python3
"""Export MedSAM2 (SAM2.1 hiera-tiny fine-tuned at 512x512) to the ONNX layout MedReasoner
Workstation loads (the SAM2 layout transformers.js also reads):

  <out>/config.json                       model_type sam2, vision_config.num_feature_levels 3
  <out>/preprocessor_config.json          Sam2ImageProcessor / Sam2Processor, 512x512, ImageNet mean/std
  <out>/onnx/vision_encoder{s}.onnx(+_data)
        pixel_values [b,3,512,512] -> image_embeddings.0 [b,32,128,128], .1 [b,64,64,64], .2 [b,256,32,32]
  <out>/onnx/prompt_encoder_mask_decoder{s}.onnx(+_data)
        input_points [b,pb,n,2], input_labels [b,pb,n], input_boxes [b,nb,4] (512-frame pixels),
        image_embeddings.0/1/2 -> iou_scores [b,pb,3], pred_masks [b,pb,3,128,128], object_score_logits
  <out>/manifest.json                     every file with its sha256 and size

The modules wrap sam2's own code (PyPI's, or MedSAM2's fork) exactly as SAM2ImagePredictor uses it (set_image:
backbone + no-memory embedding; _predict: the box becomes two corner points with labels 2
and 3 placed before the clicks, multimask output), so the app reproduces the seed's ASM
calls. The app does the rest as the predictor does, on the seed's 8-bit picture (the slice
through the displayed window, grey in three channels): /255, resize to 512 (bilinear,
antialiased), ImageNet normalisation; prompt coordinates scaled by 512/width and 512/height;
masks resized to the slice (bilinear) and thresholded at 0.
Variants: fp32 (CPU and GPU) and fp16 (GPU; float32 inputs and outputs kept, casts inside).

Runs in the project's Python environment (`npm run setup:python`: PyPI's sam2 supplies the
modules, medsam2/sam2.1_hiera_t512.yaml MedSAM2's architecture); a MedSAM2 checkout is
optional (--medsam2-source: its sam2 fork and config are used instead); no GPU is needed.
The image size is the config's (512: what MedSAM2 was fine-tuned at); --image-size 1024
reproduces the seed's run (see native-models/README.md, "Which image size").
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from medsam2_build import build_medsam2, feature_sizes, image_predictor  # noqa: E402

DTYPE_SUFFIX = {"fp32": "", "fp16": "_fp16"}


def log(message: str) -> None:
    print(f"[export_medsam2] {message}", flush=True)


def build(args):
    import torch

    model = build_medsam2(args.checkpoint, config=args.config, medsam2_source=args.medsam2_source, image_size=args.image_size)
    if args.image_size is not None and model.image_size != args.image_size:
        raise SystemExit(f"the model's image_size is {model.image_size}, expected {args.image_size}")
    log(f"model built: image_size {model.image_size}, {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters")
    return model, torch


def traceable_point_embedding(encoder, torch):
    """MedSAM2's fork writes the label embeddings by boolean-mask assignment, which the TorchScript
    exporter turns into a Where that cannot broadcast (ONNX Runtime fails at run time); the same
    sums as masked additions, for the trace only."""

    def embed_points(points, labels, pad):
        points = points + 0.5  # pixel centres, as sam2 does
        if pad:
            points = torch.cat([points, torch.zeros((points.shape[0], 1, 2), device=points.device)], dim=1)
            labels = torch.cat([labels, -torch.ones((labels.shape[0], 1), device=labels.device, dtype=labels.dtype)], dim=1)
        embedding = encoder.pe_layer.forward_with_coords(points, encoder.input_image_size)
        label = labels.unsqueeze(-1)
        embedding = torch.where(label == -1, torch.zeros_like(embedding), embedding)
        embedding = embedding + (label == -1).to(embedding.dtype) * encoder.not_a_point_embed.weight
        for k, table in enumerate(encoder.point_embeddings):
            embedding = embedding + (label == k).to(embedding.dtype) * table.weight
        return embedding

    return embed_points


def export(model, torch, workdir: Path, size: int, opset: int, traceable_points: bool = False) -> None:
    sizes = feature_sizes(size)

    class VisionEncoder(torch.nn.Module):
        """SAM2ImagePredictor.set_image after the transforms."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, pixel_values):
            batch = pixel_values.shape[0]
            backbone_out = self.model.forward_image(pixel_values)
            _, vision_feats, _, _ = self.model._prepare_backbone_features(backbone_out)
            if self.model.directly_add_no_mem_embed:
                vision_feats[-1] = vision_feats[-1] + self.model.no_mem_embed
            feats = [
                feat.permute(1, 2, 0).reshape(batch, -1, *feat_size)
                for feat, feat_size in zip(vision_feats[::-1], sizes[::-1])
            ][::-1]
            return feats[0], feats[1], feats[2]

    class PromptEncoderMaskDecoder(torch.nn.Module):
        """SAM2ImagePredictor._predict for one image and one prompt set (b = pb = 1)."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_points, input_labels, input_boxes, embed0, embed1, embed2):
            coords = input_points.reshape(1, -1, 2)
            labels = input_labels.reshape(1, -1).to(torch.int32)
            box_coords = input_boxes.reshape(1, -1, 2)
            # Built from the box tensor itself, so the traced graph keeps any number of boxes (0 or 1).
            corner = torch.zeros_like(input_boxes[..., 0], dtype=torch.int32)
            corner_labels = torch.stack([corner + 2, corner + 3], dim=-1).reshape(1, -1)
            # The box's corners first, then the clicks, as the predictor concatenates them.
            points = (torch.cat([box_coords, coords], dim=1), torch.cat([corner_labels, labels], dim=1))
            sparse, dense = self.model.sam_prompt_encoder(points=points, boxes=None, masks=None)
            low_res_masks, iou_predictions, _, object_score_logits = self.model.sam_mask_decoder(
                image_embeddings=embed2,
                image_pe=self.model.sam_prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=True,
                repeat_image=False,
                high_res_features=[embed0, embed1],
            )
            masks = low_res_masks.reshape(1, 1, low_res_masks.shape[1], low_res_masks.shape[2], low_res_masks.shape[3])
            return iou_predictions.reshape(1, 1, -1), masks, object_score_logits.reshape(1, 1, -1)

    pixel_values = torch.randn(1, 3, size, size)
    with torch.no_grad():
        embeddings = VisionEncoder()(pixel_values)
        torch.onnx.export(
            VisionEncoder(), (pixel_values,), str(workdir / "vision_encoder.onnx"), opset_version=opset,
            input_names=["pixel_values"], output_names=["image_embeddings.0", "image_embeddings.1", "image_embeddings.2"],
            dynamic_axes={"pixel_values": {0: "batch_size"}, **{f"image_embeddings.{i}": {0: "batch_size"} for i in range(3)}},
            dynamo=False,
        )
        log("vision_encoder exported")
        points = torch.tensor([[[[200.0, 210.0], [230.0, 250.0]]]])
        labels = torch.tensor([[[1, 1]]], dtype=torch.int64)
        boxes = torch.tensor([[[150.0, 160.0, 300.0, 320.0]]])
        if traceable_points:
            model.sam_prompt_encoder._embed_points = traceable_point_embedding(model.sam_prompt_encoder, torch)
        torch.onnx.export(
            PromptEncoderMaskDecoder(), (points, labels, boxes, *embeddings), str(workdir / "prompt_encoder_mask_decoder.onnx"),
            opset_version=opset,
            input_names=["input_points", "input_labels", "input_boxes", "image_embeddings.0", "image_embeddings.1", "image_embeddings.2"],
            output_names=["iou_scores", "pred_masks", "object_score_logits"],
            dynamic_axes={
                "input_points": {0: "batch_size", 1: "point_batch_size", 2: "num_points"},
                "input_labels": {0: "batch_size", 1: "point_batch_size", 2: "num_points"},
                "input_boxes": {0: "batch_size", 1: "num_boxes"},
                **{f"image_embeddings.{i}": {0: "batch_size"} for i in range(3)},
                "iou_scores": {0: "batch_size", 1: "point_batch_size"},
                "pred_masks": {0: "batch_size", 1: "point_batch_size"},
                "object_score_logits": {0: "batch_size", 1: "point_batch_size"},
            },
            dynamo=False,
        )
        if traceable_points:
            # --check must judge the export against the fork's own code.
            del model.sam_prompt_encoder._embed_points
        log("prompt_encoder_mask_decoder exported")


def save_variants(workdir: Path, out: Path, variants: list[str]) -> None:
    import onnx
    from onnxconverter_common import float16

    onnx_dir = out / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    for name in ("vision_encoder", "prompt_encoder_mask_decoder"):
        for variant in variants:
            # A fresh proto per variant: save_model(save_as_external_data=True) rewrites the one it
            # is given, and the fp32 proto is dropped before the fp16 copy is made.
            model = onnx.load(str(workdir / f"{name}.onnx"))
            if variant == "fp16":
                # Float32 inputs and outputs (casts inside), so the app feeds both variants alike.
                # The traced attention casts shape values to float (the 1/sqrt(head_dim) scale); the
                # converter retypes those outputs as float16 but leaves Cast(to=float), which ONNX
                # Runtime rejects, so those casts stay float32 with a cast to float16 after them.
                float_casts = [n.name for n in model.graph.node if n.op_type == "Cast" and any(a.name == "to" and a.i == onnx.TensorProto.FLOAT for a in n.attribute)]
                model = float16.convert_float_to_float16(model, keep_io_types=True, node_block_list=float_casts)
                onnx.checker.check_model(model)
            target = onnx_dir / f"{name}{DTYPE_SUFFIX[variant]}.onnx"
            for stale in (target, Path(str(target) + "_data")):
                if stale.exists():
                    stale.unlink()
            onnx.save_model(model, str(target), save_as_external_data=True, all_tensors_to_one_file=True, location=target.name + "_data", size_threshold=0)
            del model
            gc.collect()
            onnx.checker.check_model(str(target))
            log(f"wrote {target.relative_to(out)}")


def write_configs(out: Path, size: int) -> None:
    (out / "config.json").write_text(json.dumps({
        "architectures": ["Sam2Model"],
        "model_type": "sam2",
        "image_size": size,
        "vision_config": {"model_type": "sam2_vision_model", "num_feature_levels": 3, "backbone_feature_sizes": [[size // 4] * 2, [size // 8] * 2, [size // 16] * 2]},
        "prompt_encoder_config": {"image_size": size, "patch_size": 16},
        "mask_decoder_config": {"num_multimask_outputs": 3},
        "medsam2": {"source": "bowang-lab/MedSAM2", "note": "exported by native-models/export_medsam2.py"},
    }, indent=2) + "\n")
    (out / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "Sam2ImageProcessor",
        "processor_class": "Sam2Processor",
        "do_resize": True,
        "size": {"height": size, "width": size},
        "mask_size": {"height": size // 4, "width": size // 4},
        "resample": 2,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225],
        "do_convert_rgb": True,
    }, indent=2) + "\n")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(16 * 1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(out: Path, variants: list[str], checkpoint: Path, size: int) -> None:
    manifest = json.loads((HERE / "medsam2" / "manifest.json").read_text())
    if size != 512:
        # The app's manifest describes 512-px tensors; another size (the seed's 1024) describes its own.
        for signature in manifest["sessions"].values():
            for tensor in signature["inputs"] + signature["outputs"]:
                if tensor["name"] == "pixel_values" or tensor["name"].startswith("image_embeddings.") or tensor["name"] == "pred_masks":
                    tensor["dims"][-2:] = [d * size // 512 for d in tensor["dims"][-2:]]
        manifest["description"] = manifest["description"].replace("at 512×512", f"at 512×512, exported to run at {size}×{size}")
    manifest["variants"] = [v for v in manifest["variants"] if v["name"] in variants]
    files = []
    for entry in manifest["files"]:
        if entry.get("variants") is not None:
            entry["variants"] = [v for v in entry["variants"] if v in variants]
            if not entry["variants"]:
                continue
        path = out / entry["path"]
        if not path.exists():
            raise SystemExit(f"expected {entry['path']} in the export, it is missing")
        entry["sha256"] = sha256(path)
        entry["size"] = path.stat().st_size
        files.append(entry)
    manifest["files"] = files
    names = [v["name"] for v in manifest["variants"]]
    for key in ("cpu", "cuda"):
        if manifest["defaultVariant"][key] not in names:
            manifest["defaultVariant"][key] = names[0]
    manifest["source"]["checkpoint"] = f"{manifest['source']['checkpoint']} — exported from {checkpoint.name} (sha256 {sha256(checkpoint)[:16]}…)"
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"manifest.json written ({len(files)} files pinned)")


def check(model, torch, out: Path, size: int, variants: list[str]) -> None:
    """The ONNX sessions against SAM2ImagePredictor on a random image with a box and two clicks."""
    import numpy as np
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    box = np.array([100.0, 80.0, 260.0, 220.0])
    clicks = np.array([[150.0, 140.0], [200.0, 160.0]])
    predictor = image_predictor(model)
    predictor.set_image(image)
    masks, scores, _ = predictor.predict(point_coords=clicks, point_labels=np.array([1, 1]), box=box, multimask_output=True)
    reference = masks[int(np.argmax(scores))].astype(bool)
    pixel_values = predictor._transforms(image)[None].numpy().astype(np.float32)
    scale = np.array([size / 400, size / 300])
    for variant in variants:
        encoder = ort.InferenceSession(str(out / "onnx" / f"vision_encoder{DTYPE_SUFFIX[variant]}.onnx"), providers=["CPUExecutionProvider"])
        decoder = ort.InferenceSession(str(out / "onnx" / f"prompt_encoder_mask_decoder{DTYPE_SUFFIX[variant]}.onnx"), providers=["CPUExecutionProvider"])
        embeddings = encoder.run(None, {"pixel_values": pixel_values})
        iou, low, _ = decoder.run(None, {
            "input_points": (clicks * scale).astype(np.float32)[None, None],
            "input_labels": np.array([[[1, 1]]], dtype=np.int64),
            "input_boxes": (box.reshape(2, 2) * scale).reshape(1, 1, 4).astype(np.float32),
            "image_embeddings.0": embeddings[0], "image_embeddings.1": embeddings[1], "image_embeddings.2": embeddings[2],
        })
        best = low[0, 0, int(np.argmax(iou[0, 0]))]
        upsampled = torch.nn.functional.interpolate(torch.from_numpy(best)[None, None], (300, 400), mode="bilinear", align_corners=False)[0, 0].numpy() > 0
        agreement = (upsampled & reference).sum() / max(1, (upsampled | reference).sum())
        log(f"{variant}: mask IoU with SAM2ImagePredictor {agreement:.4f}; scores {np.round(iou[0, 0], 3)} vs {np.round(scores, 3)}")
        if agreement < (0.99 if variant == "fp32" else 0.95):
            raise SystemExit(f"the {variant} export disagrees with SAM2ImagePredictor: do not install it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, type=Path, help="MedSAM2 checkpoint, e.g. MedSAM2_2411.pt from huggingface.co/wanglab/MedSAM2")
    parser.add_argument("--medsam2-source", type=Path, default=None, help="optional: a checkout of github.com/bowang-lab/MedSAM2 (its sam2 fork and config build the model instead of PyPI's sam2 and ours)")
    parser.add_argument("--config", default=None, help="a config .yaml file, or a name inside the sam2 package's configs (default: medsam2/sam2.1_hiera_t512.yaml, or configs/sam2.1_hiera_t512.yaml of --medsam2-source)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--variants", default="fp32,fp16")
    parser.add_argument("--image-size", type=int, default=None, help="override the config's image_size (512); 1024 is what the seed's copy of the config ran at")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--check", action="store_true", help="compare the export with SAM2ImagePredictor on a random image")
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not variants or any(v not in DTYPE_SUFFIX for v in variants):
        raise SystemExit(f"variants must be among {list(DTYPE_SUFFIX)}")
    if not args.checkpoint.exists():
        raise SystemExit(f"{args.checkpoint} not found")
    args.out.mkdir(parents=True, exist_ok=True)
    model, torch = build(args)
    size = model.image_size
    with tempfile.TemporaryDirectory(dir=args.out, prefix=".work-") as tmp:
        export(model, torch, Path(tmp), size, args.opset, traceable_points=args.medsam2_source is not None)
        if not args.check:
            del model
            gc.collect()
        save_variants(Path(tmp), args.out, variants)
    write_configs(args.out, size)
    write_manifest(args.out, variants, args.checkpoint, size)
    if args.check:
        check(model, torch, args.out, size, variants)
    log(f"done: install with  medreasoner models install medsam2 --from {args.out}")


if __name__ == "__main__":
    sys.exit(main())
