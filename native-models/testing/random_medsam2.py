#!/usr/bin/env python3
"""A random-weight MedSAM2 checkpoint: the real architecture (SAM2.1 hiera-tiny with MedSAM2's
config, medsam2/sam2.1_hiera_t512.yaml) saved as MedSAM2_2411.pt is, {"model": state_dict}, which
is what sam2's build_sam2 loads, so export_medsam2.py runs on it unchanged.

  random_medsam2.py --out medsam2-random.pt --seed 0

It stands in for the checkpoint in CI, where the weights cannot be downloaded: it exercises the
export and the app's ASM path against SAM2ImagePredictor, not MedSAM2's segmentation quality.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from medsam2_build import build_medsam2, image_predictor  # noqa: E402

# A mask is "non-trivial" when it covers between these fractions of the prompt's box.
MIN_COVER, MAX_COVER = 0.05, 0.95


def probe_cover(model, seed: int) -> list[float]:
    """Fractions of a box covered by the three masks for a box + two clicks on a synthetic image."""
    import numpy as np

    rng = np.random.default_rng(seed)
    image = np.full((256, 320, 3), 30, dtype=np.uint8)
    image[60:200, 80:240] = 190
    image = np.clip(image.astype(np.int16) + rng.integers(-12, 12, image.shape), 0, 255).astype(np.uint8)
    predictor = image_predictor(model)
    predictor.set_image(image)
    box = np.array([60.0, 40.0, 260.0, 220.0])
    masks, _, _ = predictor.predict(point_coords=np.array([[150.0, 120.0], [180.0, 150.0]]), point_labels=np.array([1, 1]), box=box, multimask_output=True)
    inside = masks[:, 40:221, 60:261]
    return [float(m.mean()) for m in inside]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch

    torch.manual_seed(args.seed)
    model = build_medsam2(None)
    # The default init already yields masks that are neither empty nor full; the mask and IoU
    # heads' last layers are scaled up so logits and scores sit well apart from 0 and from each
    # other, and a parity test is not decided by the threshold or a near-tie in the argmax.
    with torch.no_grad():
        decoder = model.sam_mask_decoder
        for hyper in decoder.output_hypernetworks_mlps:
            hyper.layers[-1].weight.mul_(4.0)
        decoder.iou_prediction_head.layers[-1].weight.mul_(8.0)
    cover = probe_cover(model, args.seed)
    if not all(MIN_COVER < c < MAX_COVER for c in cover):
        raise SystemExit(f"seed {args.seed}: the random masks cover {cover} of the box (want each within {MIN_COVER}–{MAX_COVER}); try another seed")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict()}, args.out)
    print(f"[random_medsam2] wrote {args.out} (seed {args.seed}; image_size {model.image_size}; masks cover {[round(c, 3) for c in cover]} of the box)", flush=True)


if __name__ == "__main__":
    main()
