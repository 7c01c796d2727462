// How a data set is encoded (implicit/explicit VR, byte order), read from its first
// elements when there is no meta header or the meta header does not match the data.
import {
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from './transfer-syntaxes.ts';

const UNDEFINED_LENGTH = 0xffffffff;

export interface Encoding {
  explicit: boolean;
  bigEndian: boolean;
}

export interface ElementHeader {
  tag: string;
  vr: string | undefined;
  length: number;
  dataOffset: number;
}

const FOUR_BYTE_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const VALID_VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

/** The tag, VR and length of the element at `start`, read by hand (null when its header is cut off). */
export function peekElementHeader(bytes: Uint8Array, start: number, encoding: Encoding): ElementHeader | null {
  const u16 = (at: number) => (encoding.bigEndian ? ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0) : (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8));
  const u32 = (at: number) => (encoding.bigEndian ? u16(at) * 0x10000 + u16(at + 2) : u16(at) + u16(at + 2) * 0x10000);
  if (start + 8 > bytes.length) return null;
  const tag = `x${u16(start).toString(16).padStart(4, '0')}${u16(start + 2).toString(16).padStart(4, '0')}`;
  if (!encoding.explicit) return { tag, vr: undefined, length: u32(start + 4), dataOffset: start + 8 };
  const vr = String.fromCharCode(bytes[start + 4] ?? 0, bytes[start + 5] ?? 0);
  if (FOUR_BYTE_LENGTH_VRS.has(vr)) {
    if (start + 12 > bytes.length) return null;
    return { tag, vr, length: u32(start + 8), dataOffset: start + 12 };
  }
  return { tag, vr, length: u16(start + 6), dataOffset: start + 8 };
}

/**
 * Which encoding the data set at `position` is in. The declared one wins when the first
 * elements read sensibly in it; otherwise the first encoding they do read in (files whose
 * meta header lies about implicit/explicit VR exist, and raw data sets have none).
 */
export function chooseEncoding(bytes: Uint8Array, position: number, fileSize: number, declared: Encoding | null): Encoding | null {
  if (position >= bytes.length) return declared ?? { explicit: false, bigEndian: false };
  const candidates: Encoding[] = [
    { explicit: true, bigEndian: false },
    { explicit: false, bigEndian: false },
    { explicit: true, bigEndian: true },
  ];
  if (declared) candidates.unshift(declared);
  return candidates.find((encoding) => looksLikeElements(bytes, position, fileSize, encoding)) ?? null;
}

/** Up to three elements with ascending tags, plausible VRs and lengths that fit in the file. */
function looksLikeElements(bytes: Uint8Array, position: number, fileSize: number, encoding: Encoding): boolean {
  let at = position;
  let previousTag = -1;
  for (let count = 0; count < 3 && at < bytes.length; count++) {
    const header = peekElementHeader(bytes, at, encoding);
    if (!header) return count > 0;
    const tagValue = parseInt(header.tag.slice(1), 16);
    const group = tagValue >>> 16;
    if (tagValue <= previousTag || group === 0xfffe || group === 0) return false;
    if (encoding.explicit && !VALID_VRS.has(header.vr ?? '')) return false;
    if (header.length === UNDEFINED_LENGTH) return true; // a sequence: cannot skip it cheaply, and the start looked right
    if (header.dataOffset + header.length > fileSize) return false;
    previousTag = tagValue;
    at = header.dataOffset + header.length;
  }
  return true;
}

export function encodingOf(transferSyntaxUid: string): Encoding {
  if (transferSyntaxUid === IMPLICIT_VR_LITTLE_ENDIAN) return { explicit: false, bigEndian: false };
  if (transferSyntaxUid === EXPLICIT_VR_BIG_ENDIAN) return { explicit: true, bigEndian: true };
  return { explicit: true, bigEndian: false };
}

export function syntaxOf(encoding: Encoding): string {
  if (!encoding.explicit) return IMPLICIT_VR_LITTLE_ENDIAN;
  return encoding.bigEndian ? EXPLICIT_VR_BIG_ENDIAN : EXPLICIT_VR_LITTLE_ENDIAN;
}

export function describeEncoding(encoding: Encoding): string {
  return `${encoding.explicit ? 'explicit' : 'implicit'} VR ${encoding.bigEndian ? 'big' : 'little'} endian`;
}
