"""Prints a DICOM file's stored pixels as JSON, decoded by pydicom: the independent
reference the e2e tests hold Cornerstone's rendering against.

Usage: /usr/bin/python3 pydicom-pixels.py FILE
Output: {"rows", "columns", "frames", "samplesPerPixel", "photometric",
         "windowCenter", "windowWidth", "rescaleSlope", "rescaleIntercept",
         "pixels": [frame][row][column] or [frame][row][column][sample]}
Modality LUT is not applied: the test applies it, like the viewer does. YBR colour
is converted to RGB, as a viewer shows it.
"""
import json
import sys

import pydicom
from pydicom.pixel_data_handlers.util import convert_color_space


def first(value):
    if value is None:
        return None
    if isinstance(value, pydicom.multival.MultiValue):
        return float(value[0])
    return float(value)


def main(path):
    dataset = pydicom.dcmread(path)
    pixels = dataset.pixel_array
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    samples = int(dataset.get("SamplesPerPixel", 1))
    if frames == 1:
        pixels = pixels.reshape((1,) + pixels.shape)
    photometric = str(dataset.PhotometricInterpretation)
    if photometric.startswith("YBR"):
        # Displayed colours are RGB; pydicom leaves uncompressed YBR as stored.
        pixels = convert_color_space(pixels, photometric, "RGB", per_frame=True)
        photometric = "RGB"
    json.dump(
        {
            "rows": int(dataset.Rows),
            "columns": int(dataset.Columns),
            "frames": frames,
            "samplesPerPixel": samples,
            "photometric": photometric,
            "windowCenter": first(dataset.get("WindowCenter")),
            "windowWidth": first(dataset.get("WindowWidth")),
            "rescaleSlope": first(dataset.get("RescaleSlope")),
            "rescaleIntercept": first(dataset.get("RescaleIntercept")),
            "pixels": pixels.tolist(),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(sys.argv[1])
