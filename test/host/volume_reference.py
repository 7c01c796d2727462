"""The reference reading of the real labelled volumes the segmenter evaluation uses:
nibabel for NIfTI-1, pynrrd for NRRD. Prints one JSON object per file: the grid, the voxel
spacing, and position-weighted sums of the voxel values (x fastest), which differ when any
voxel is misread, misplaced or mis-scaled."""
import json
import sys

import numpy as np


def summary(values, spacing):
    flat = np.asarray(values, dtype=np.float64).ravel(order="F")
    weights = (np.arange(flat.size, dtype=np.float64) % 9973) + 1
    return {
        "sizes": [int(n) for n in values.shape],
        "spacing": [float(s) for s in spacing],
        "sum": float(flat.sum()),
        "weighted": float((flat * weights).sum()),
        "nonzero": int(np.count_nonzero(flat)),
    }


def read(path):
    if path.endswith((".nii", ".nii.gz")):
        import nibabel

        image = nibabel.load(path)
        return summary(image.get_fdata(dtype=np.float64), image.header.get_zooms()[:3])
    import nrrd

    data, header = nrrd.read(path, index_order="F")
    directions = header.get("space directions")
    if directions is not None:
        spacing = [float(np.linalg.norm(v)) for v in np.asarray(directions, dtype=np.float64)]
    else:
        spacing = [float(s) for s in header.get("spacings", [1, 1, 1])]
    return summary(data, spacing)


if __name__ == "__main__":
    print(json.dumps({path: read(path) for path in sys.argv[1:]}))
