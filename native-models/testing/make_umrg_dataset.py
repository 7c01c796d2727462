"""A small dataset in U-MRG-14K's layout, for the eval tests.

The layout is what the seed's eval code reads (PRIS-CV/MedReasoner eval/eval.py and
vllm_eval.py: datasets.load_dataset(path)['test']): a folder with data/test-*.parquet whose
rows hold images and masks (lists of Hugging Face Image structs {bytes, path}), prompt
(a chat list whose first content is the question), reward_model.ground_truth (a JSON string
with bbox_2d and point_2d) and extra_info (id, supercategory, category, ...).
Images are synthetic grey slices (a disc of tissue and one bright ellipse, the target) at
sizes that are not multiples of 28, so the CRM's resize is exercised.
"""
import argparse
import io
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

SUPER = [("Abdomen", "Liver lesion"), ("Brain", "Tumor"), ("Lung", "Nodule"), ("Abdomen", "Kidney cyst")]


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--count", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    rows = []
    for i in range(args.count):
        width, height = int(rng.integers(150, 260)), int(rng.integers(130, 230))
        yy, xx = np.mgrid[0:height, 0:width]
        image = np.full((height, width), 10, np.uint8)
        image[((xx - width / 2) / (width * 0.45)) ** 2 + ((yy - height / 2) / (height * 0.45)) ** 2 < 1] = 90
        cx, cy = width * rng.uniform(0.35, 0.65), height * rng.uniform(0.35, 0.65)
        rx, ry = width * rng.uniform(0.08, 0.16), height * rng.uniform(0.08, 0.16)
        target = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 1
        image[target] = 200
        image = np.clip(image.astype(np.int32) + rng.integers(-6, 7, image.shape), 0, 255).astype(np.uint8)
        mask = (target * 255).astype(np.uint8)
        ys, xs = np.nonzero(target)
        bbox = [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]
        points = [[int(round(cx - rx / 3)), int(round(cy))], [int(round(cx + rx / 3)), int(round(cy))]]
        supercategory, category = SUPER[i % len(SUPER)]
        rgb = np.stack([image] * 3, axis=-1)
        rows.append({
            # Every third image is a JPEG (the seed's images are PNG or JPG exports).
            "images": [{"bytes": jpeg(rgb), "path": f"img_{i}.jpg"} if i % 3 == 1 else {"bytes": png(rgb), "path": f"img_{i}.png"}],
            "masks": [{"bytes": png(mask), "path": f"mask_{i}.png"}],
            "prompt": [{"content": f"Sample {i}: where is the {category.lower()}?", "role": "user"}],
            "reward_model": {"ground_truth": json.dumps({"bbox_2d": bbox, "point_2d": points}), "style": "rule"},
            "extra_info": {"id": f"umrg-test-{i:04d}", "supercategory": supercategory, "category": category, "modality": "CT", "split": "test"},
            "data_source": "u-mrg-synthetic",
        })
    image_struct = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    schema = pa.schema([
        ("data_source", pa.string()),
        ("prompt", pa.list_(pa.struct([("content", pa.string()), ("role", pa.string())]))),
        ("images", pa.list_(image_struct)),
        ("masks", pa.list_(image_struct)),
        ("reward_model", pa.struct([("ground_truth", pa.string()), ("style", pa.string())])),
        ("extra_info", pa.struct([("id", pa.string()), ("supercategory", pa.string()), ("category", pa.string()), ("modality", pa.string()), ("split", pa.string())])),
    ])
    os.makedirs(os.path.join(args.out, "data"), exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, os.path.join(args.out, "data", "test-00000-of-00001.parquet"), compression="snappy")
    print(json.dumps({"rows": len(rows), "out": args.out}))


if __name__ == "__main__":
    main()
