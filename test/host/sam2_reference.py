"""The reference for asm-export-parity.test.ts: SAM2ImagePredictor on a MedSAM2 checkpoint, called
as the seed calls it (PRIS-CV/MedReasoner eval/infer.py: set_image on the 8-bit RGB picture, then
predict(points, labels, box=box) with multimask output and the highest-scoring mask kept).

  sam2_reference.py <request.json> <response.json>

request: {checkpoint, picture (raw 8-bit grey, row by row), width, height,
          cases: [{name, box: [x0, y0, x1, y1] | null, points: [[x, y], ...], labels: [1|0, ...]}]}
response: {image_size, cases: [{name, scores: [3], best, mask: base64 of the best mask, 1 byte a pixel}]}
"""
import base64
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "native-models"))
from medsam2_build import build_medsam2, image_predictor  # noqa: E402


def main() -> None:
    request = json.loads(Path(sys.argv[1]).read_text())
    width, height = request["width"], request["height"]
    grey = np.frombuffer(Path(request["picture"]).read_bytes(), dtype=np.uint8).reshape(height, width)
    # The seed's image: one 8-bit picture in three equal channels.
    image = np.stack([grey, grey, grey], axis=-1)
    model = build_medsam2(Path(request["checkpoint"]))
    predictor = image_predictor(model)
    predictor.set_image(image)
    cases = []
    for case in request["cases"]:
        points = np.array(case["points"], dtype=np.float32) if case["points"] else None
        labels = np.array(case["labels"], dtype=np.int64) if case["points"] else None
        box = np.array(case["box"], dtype=np.float32) if case["box"] is not None else None
        masks, scores, _ = predictor.predict(points, labels, box=box, multimask_output=True)
        best = int(np.argsort(scores)[::-1][0])
        cases.append({
            "name": case["name"],
            "scores": [float(s) for s in scores],
            "best": best,
            "mask": base64.b64encode(masks[best].astype(np.uint8).tobytes()).decode("ascii"),
        })
    Path(sys.argv[2]).write_text(json.dumps({"image_size": model.image_size, "cases": cases}))


if __name__ == "__main__":
    main()
