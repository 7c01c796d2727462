// A decompression bomb as a DICOM file: a Part 10 file in Deflated Explicit VR Little
// Endian whose Pixel Data is a long run of zeros, tiny on disk (1 GiB deflates to ~1 MB).
import { join } from 'node:path';
import { createDeflateRaw } from 'node:zlib';
import { encodeFileMeta, readPart10Header } from '../../electron/host/pacs/part10.ts';
import { ctSlice, findTag, writeDicom } from './fixtures-dicom.ts';

export const DEFLATED = '1.2.840.10008.1.2.1.99';
const SOP_CLASS = '1.2.840.10008.5.1.4.1.1.2';

/** Deflates `zeros` zero bytes, streamed so the test never holds them. */
async function deflateStreamed(zeros: number): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  const block = Buffer.alloc(4 * 1024 * 1024);
  for (let left = zeros; left > 0; left -= block.length) {
    const piece = left >= block.length ? block : block.subarray(0, left);
    if (!deflate.write(piece)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  return Buffer.concat(out);
}

/** A Part 10 file in Deflated Explicit VR Little Endian whose Pixel Data holds `pixelBytes` zeros. */
export async function deflatedCt(
  dir: string,
  sopUid: string,
  pixelBytes: number,
  seriesUid = '1.2.77.1',
  /** To put it in another study (a PACS files it under that study's patient too). */
  identity: { studyUid?: string; patientId?: string } = {},
): Promise<Buffer> {
  const plain = writeDicom(
    join(dir, `plain-${sopUid}.dcm`),
    ctSlice({ seriesUid, sopUid, rows: 16, columns: 16, position: [0, 0, 0], orientation: [1, 0, 0, 0, 1, 0], ...identity }),
  );
  const start = readPart10Header(plain).datasetOffset;
  const pixelTag = findTag(plain, 0x7fe0, 0x0010);
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(0x7fe0, 0);
  pixelHeader.writeUInt16LE(0x0010, 2);
  pixelHeader.write('OW', 4, 'latin1');
  pixelHeader.writeUInt32LE(pixelBytes, 8);
  // dicom-parser reads one element past the meta group before it looks at the group, so a
  // compressed stream that happens to start like an SQ element breaks it before any inflate.
  // The header goes first as a stored (uncompressed) block, whose first bytes we choose.
  const head = Buffer.concat([plain.subarray(start, pixelTag), pixelHeader]);
  const stored = Buffer.alloc(5);
  stored.writeUInt8(0, 0); // not the final block, stored
  stored.writeUInt16LE(head.length, 1);
  stored.writeUInt16LE(~head.length & 0xffff, 3);
  const deflated = Buffer.concat([stored, head, await deflateStreamed(pixelBytes)]);
  return Buffer.concat([encodeFileMeta({ sopClassUid: SOP_CLASS, sopInstanceUid: sopUid, transferSyntaxUid: DEFLATED }), deflated]);
}


/** Runs `work` with MEDREASONER_MAX_INFLATE_MB set (the instance parser reads it on every file), then restores it. */
export async function withInflateBudget<T>(megabytes: number, work: () => Promise<T>): Promise<T> {
  const previous = process.env.MEDREASONER_MAX_INFLATE_MB;
  process.env.MEDREASONER_MAX_INFLATE_MB = String(megabytes);
  try {
    return await work();
  } finally {
    if (previous === undefined) delete process.env.MEDREASONER_MAX_INFLATE_MB;
    else process.env.MEDREASONER_MAX_INFLATE_MB = previous;
  }
}
