// What the slice-batch worker does with one DICOM file: its metadata naturalized the way
// @cornerstonejs/metadata naturalizes DICOMweb JSON (dcmjs reads everything before the pixel
// data; the page stores the result as the file's NATURALIZED metadata), and its one frame
// decoded by dicom-image-loader's own worker decoder (decodeImageFrame: every transfer
// syntax's codec, the modality rescale, the buffer type rules), so an image built from it on
// the page is the image the loader would have built. Files this path does not cover go back
// as bytes, with the reason, to the loader's own path. Worker-side: no DOM, no Cornerstone core.
import { utilities as metadataUtilities } from '@cornerstonejs/metadata';
// @ts-ignore -- dcmjs ships no type declarations: the one call used here is typed below (DcmjsReader)
import dcmjsModule from 'dcmjs';
import dicomParser from 'dicom-parser';
import { decodeImageFrame } from 'cornerstone-decode-image-frame';
import { naturalToWire, PIXEL_ARRAYS, pixelArrayForRange, type DecodedFrame, type DecodeRequest, type ScalingParameters, type SliceOutcome } from './slice-batch-protocol.ts';

type DicomJson = Record<string, { vr?: string; Value?: unknown[] } | undefined>;
type DcmjsReader = { data: { DicomMessage: { readFile(bytes: ArrayBuffer, options: { untilTag: string; includeUntilTagValue: boolean }): { meta: DicomJson; dict: DicomJson } } } };
const dcmjs = dcmjsModule as DcmjsReader;

const DEFLATED_EXPLICIT_LE = '1.2.840.10008.1.2.1.99';
const NATIVE_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);
/** The transfer syntaxes decodeImageFrame has a decoder for (besides the native ones and deflate, handled apart). */
const ENCAPSULATED_SYNTAXES = new Set([
  '1.2.840.10008.1.2.1.98', '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203', '3.2.840.10008.1.2.4.96',
  '1.2.840.10008.1.2.4.110', '1.2.840.10008.1.2.4.111', '1.2.840.10008.1.2.4.112',
]);

const back = (bytes: ArrayBuffer, why: string): SliceOutcome => ({ kind: 'bytes', bytes, why });

/** The file's metadata up to its pixel data, naturalized; the transfer syntax from its meta group. */
export function naturalizeFile(bytes: ArrayBuffer): { natural: Record<string, unknown>; transferSyntaxUid: string } {
  const file = dcmjs.data.DicomMessage.readFile(bytes, { untilTag: '7FE00010', includeUntilTagValue: false });
  const natural = metadataUtilities.naturalizeDicomwebMetadata({ ...file.meta, ...file.dict }) as Record<string, unknown>;
  const syntax = file.meta['00020010']?.Value?.[0];
  const transferSyntaxUid = typeof syntax === 'string' ? syntax : '1.2.840.10008.1.2';
  natural['TransferSyntaxUID'] = transferSyntaxUid;
  return { natural, transferSyntaxUid };
}

/** The one frame's stored bytes: the native frame, or every fragment of an encapsulated single frame. */
function frameBytes(bytes: ArrayBuffer, pixelSize: number): { pixels: Uint8Array } | { why: string } {
  const dataSet = dicomParser.parseDicom(new Uint8Array(bytes));
  const element = dataSet.elements['x7fe00010'];
  if (!element) return { why: 'no Pixel Data element' };
  if (element.encapsulatedPixelData) {
    const fragments = element.fragments ?? [];
    if (fragments.length === 0) return { why: 'encapsulated pixel data without fragments' };
    return { pixels: dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, 0, fragments.length) };
  }
  if (element.dataOffset + pixelSize > bytes.byteLength) return { why: 'pixel data shorter than the frame' };
  // A view, not a copy: the decoder copies into the array it hands back (and realigns an odd offset itself).
  return { pixels: new Uint8Array(bytes, element.dataOffset, pixelSize) };
}

const numberOf = (value: unknown): number | undefined => {
  const first = Array.isArray(value) ? value[0] : value;
  const number = typeof first === 'string' ? Number(first) : first;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
};
const textOf = (value: unknown): string | undefined => {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
};

/** Decodes one file for `request`, or hands it back with the reason. */
export async function decodeSliceFile(bytes: ArrayBuffer, request: DecodeRequest): Promise<SliceOutcome> {
  let naturalized: { natural: Record<string, unknown>; transferSyntaxUid: string };
  try {
    naturalized = naturalizeFile(bytes);
  } catch (error) {
    return back(bytes, `not read here (${error instanceof Error ? error.message : String(error)})`);
  }
  const { natural, transferSyntaxUid } = naturalized;
  if (transferSyntaxUid === DEFLATED_EXPLICIT_LE) return back(bytes, 'deflated');
  if (!NATIVE_SYNTAXES.has(transferSyntaxUid) && !ENCAPSULATED_SYNTAXES.has(transferSyntaxUid)) return back(bytes, `transfer syntax ${transferSyntaxUid}`);
  if ((numberOf(natural['NumberOfFrames']) ?? 1) !== 1) return back(bytes, 'multi-frame');
  const samplesPerPixel = numberOf(natural['SamplesPerPixel']) ?? 1;
  const photometricInterpretation = textOf(natural['PhotometricInterpretation']) ?? '';
  if (samplesPerPixel !== 1 || (photometricInterpretation !== 'MONOCHROME1' && photometricInterpretation !== 'MONOCHROME2')) return back(bytes, 'not monochrome');
  const modality = textOf(natural['Modality']);
  if (modality === 'PT' || modality === 'RTDOSE') return back(bytes, `${modality} scaling`);
  if (natural['ModalityLUTSequence'] !== undefined) return back(bytes, 'modality LUT sequence');
  const rows = numberOf(natural['Rows']);
  const columns = numberOf(natural['Columns']);
  const bitsAllocated = numberOf(natural['BitsAllocated']);
  if (!rows || !columns || (bitsAllocated !== 8 && bitsAllocated !== 16)) return back(bytes, 'pixel layout');
  const stored = frameBytes(bytes, rows * columns * (bitsAllocated / 8));
  if ('why' in stored) return back(bytes, stored.why);

  // The loader's own rule (its getScalingParameters): no rescale when it would be the identity.
  const rescaleSlope = numberOf(natural['RescaleSlope']) ?? 1;
  const rescaleIntercept = numberOf(natural['RescaleIntercept']) ?? 0;
  const scaling: ScalingParameters | null = request.preScale && !(rescaleSlope === 1 && rescaleIntercept === 0) ? { rescaleSlope, rescaleIntercept, modality } : null;
  const imageFrame = {
    samplesPerPixel,
    photometricInterpretation,
    planarConfiguration: numberOf(natural['PlanarConfiguration']),
    rows,
    columns,
    bitsAllocated,
    bitsStored: numberOf(natural['BitsStored']) ?? bitsAllocated,
    pixelRepresentation: numberOf(natural['PixelRepresentation']) ?? 0,
    smallestPixelValue: numberOf(natural['SmallestImagePixelValue']),
    largestPixelValue: numberOf(natural['LargestImagePixelValue']),
    pixelData: undefined,
  };
  const options = {
    ...(request.targetType ? { targetBuffer: { type: request.targetType } } : {}),
    preScale: scaling ? { enabled: true, scalingParameters: scaling } : { enabled: false },
    allowFloatRendering: request.allowFloatRendering,
  };
  let frame: DecodedFrame;
  try {
    frame = (await decodeImageFrame(imageFrame, transferSyntaxUid, stored.pixels, {}, options, undefined)) as DecodedFrame;
  } catch (error) {
    return back(bytes, `decoder (${error instanceof Error ? error.message : String(error)})`);
  }
  // What the loader's createImage does next with the decoder's array: the target type when one
  // was asked for (even where the decoder kept another because the values do not fit), else the
  // type the values call for (setPixelDataType).
  const wanted = request.targetType ?? pixelArrayForRange(frame.smallestPixelValue, frame.largestPixelValue);
  if (frame.pixelData.constructor.name !== wanted) frame.pixelData = new PIXEL_ARRAYS[wanted](frame.pixelData);
  delete natural['PixelData'];
  return { kind: 'decoded', natural: naturalToWire(natural), frame, transferSyntaxUid, scaling };
}
