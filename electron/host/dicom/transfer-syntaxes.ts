// Transfer syntaxes as the import sees them: how the data set is encoded (for parsing
// the header) and whether the renderer has a decoder for the pixel data.

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

/** Native (not encapsulated) pixel data: its length must match Rows × Columns × … exactly. */
const NATIVE = new Set([
  IMPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
]);

/**
 * Encapsulated syntaxes the renderer's decoders handle, by name. The host's own decoder
 * (inference/pixel-codecs.ts) serves exactly this list, so ask and segment read what the viewer shows.
 */
export const DECODABLE_ENCAPSULATED: ReadonlyMap<string, string> = new Map<string, string>([
  ['1.2.840.10008.1.2.5', 'RLE Lossless'],
  ['1.2.840.10008.1.2.4.50', 'JPEG Baseline'],
  ['1.2.840.10008.1.2.4.51', 'JPEG Extended'],
  ['1.2.840.10008.1.2.4.57', 'JPEG Lossless'],
  ['1.2.840.10008.1.2.4.70', 'JPEG Lossless SV1'],
  ['1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless'],
  ['1.2.840.10008.1.2.4.81', 'JPEG-LS Near-Lossless'],
  ['1.2.840.10008.1.2.4.90', 'JPEG 2000 Lossless'],
  ['1.2.840.10008.1.2.4.91', 'JPEG 2000'],
  ['1.2.840.10008.1.2.4.201', 'HTJ2K Lossless'],
  ['1.2.840.10008.1.2.4.202', 'HTJ2K Lossless RPCL'],
  ['1.2.840.10008.1.2.4.203', 'HTJ2K'],
  ['1.2.840.10008.1.2.4.110', 'JPEG XL Lossless'],
  ['1.2.840.10008.1.2.4.111', 'JPEG XL JPEG Recompression'],
  ['1.2.840.10008.1.2.4.112', 'JPEG XL'],
]);

/** Names of syntaxes we know but cannot decode, so problem details read well. */
const KNOWN_UNDECODABLE = new Map<string, string>([
  ['1.2.840.10008.1.2.4.52', 'JPEG Extended (Process 3 & 5, retired)'],
  ['1.2.840.10008.1.2.4.53', 'JPEG Spectral Selection (retired)'],
  ['1.2.840.10008.1.2.4.55', 'JPEG Full Progression (retired)'],
  ['1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component Lossless'],
  ['1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component'],
  ['1.2.840.10008.1.2.4.94', 'JPIP Referenced'],
  ['1.2.840.10008.1.2.4.95', 'JPIP Referenced Deflate'],
  ['1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile @ Main Level'],
  ['1.2.840.10008.1.2.4.101', 'MPEG2 Main Profile @ High Level'],
  ['1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile'],
  ['1.2.840.10008.1.2.4.103', 'MPEG-4 AVC/H.264 BD-compatible High Profile'],
  ['1.2.840.10008.1.2.4.104', 'MPEG-4 AVC/H.264 High Profile for 2D Video'],
  ['1.2.840.10008.1.2.4.105', 'MPEG-4 AVC/H.264 High Profile for 3D Video'],
  ['1.2.840.10008.1.2.4.106', 'MPEG-4 AVC/H.264 Stereo High Profile'],
  ['1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile'],
  ['1.2.840.10008.1.2.4.108', 'HEVC/H.265 Main 10 Profile'],
  ['1.2.840.10008.1.2.6.1', 'RFC 2557 MIME encapsulation'],
  ['1.2.840.10008.1.2.6.2', 'XML Encoding'],
  ['1.2.840.10008.1.2.7.1', 'SMPTE ST 2110-20 Uncompressed Progressive Active Video'],
]);

export function isNativePixelSyntax(uid: string): boolean {
  return NATIVE.has(uid);
}

export function isDecodableSyntax(uid: string): boolean {
  return NATIVE.has(uid) || DECODABLE_ENCAPSULATED.has(uid);
}

export function transferSyntaxName(uid: string): string {
  switch (uid) {
    case IMPLICIT_VR_LITTLE_ENDIAN:
      return 'Implicit VR Little Endian';
    case EXPLICIT_VR_LITTLE_ENDIAN:
      return 'Explicit VR Little Endian';
    case DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN:
      return 'Deflated Explicit VR Little Endian';
    case EXPLICIT_VR_BIG_ENDIAN:
      return 'Explicit VR Big Endian';
  }
  return DECODABLE_ENCAPSULATED.get(uid) ?? KNOWN_UNDECODABLE.get(uid) ?? 'unknown transfer syntax';
}
