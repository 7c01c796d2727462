// `models install <id> --from-hub`: downloads a published copy of a model folder, resumably
// (each file goes to <file>.part and continues with an HTTP Range request after an
// interruption), then installs it from the download folder, which verifies every file.
// Only models whose manifest names a published copy (source.hub) can be downloaded; the
// MedReasoner and MedSAM2 ONNX exports are produced locally by the export scripts.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { installFromFolder, ModelInstallError, type InstallResult } from './install.ts';
import { MANIFEST_FILE, type ModelManifest } from './manifest.ts';

export const HUB_URL = 'https://huggingface.co';

export interface DownloadProgress {
  file: string;
  bytesDone: number;
  bytesTotal: number | null;
  resumedFrom: number;
}

export interface DownloadOptions {
  expectedSize?: number | null;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  label?: string;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** Downloads `url` to `dest`, continuing a previous `<dest>.part` when the server honours Range. */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const partial = `${dest}.part`;
  const label = options.label ?? path.basename(dest);
  await mkdir(path.dirname(dest), { recursive: true });
  let existing = await sizeOf(partial);
  const expected = options.expectedSize ?? null;
  if (expected !== null && existing === expected) {
    await rename(partial, dest);
    return;
  }
  if (expected !== null && existing > expected) {
    await rm(partial, { force: true });
    existing = 0;
  }
  const headers: Record<string, string> = existing > 0 ? { Range: `bytes=${existing}-` } : {};
  let response = await fetchImpl(url, { headers, ...(options.signal ? { signal: options.signal } : {}) });
  if (response.status === 416 && existing > 0) {
    // The server says the range starts past the end: the part file is stale. Start over.
    await rm(partial, { force: true });
    existing = 0;
    response = await fetchImpl(url, options.signal ? { signal: options.signal } : {});
  }
  if (!response.ok || !response.body) throw new ModelInstallError(`Downloading ${label} from ${url} failed: HTTP ${response.status} ${response.statusText}`);
  const resumed = response.status === 206;
  if (!resumed) existing = 0; // the server sent the whole file
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader !== null ? existing + Number(lengthHeader) : expected;
  let done = existing;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    done += chunk.length;
    options.onProgress?.({ file: label, bytesDone: done, bytesTotal: total, resumedFrom: existing });
  });
  await pipeline(body, createWriteStream(partial, { flags: resumed ? 'a' : 'w' }), options.signal ? { signal: options.signal } : {});
  const finalSize = await sizeOf(partial);
  if (expected !== null && finalSize !== expected) {
    throw new ModelInstallError(`Downloading ${label}: got ${finalSize} bytes, expected ${expected}. Run the command again to resume.`);
  }
  await rename(partial, dest);
}

export interface HubInstallOptions {
  manifest: ModelManifest;
  modelsDir: string;
  known: readonly ModelManifest[];
  /** Variants to fetch (default: the CPU and CUDA defaults). */
  variants?: string[];
  onProgress?: (progress: DownloadProgress) => void;
  onNote?: (note: string) => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  hubUrl?: string;
}

export async function installFromHub(options: HubInstallOptions): Promise<InstallResult> {
  const { manifest } = options;
  const hub = manifest.source.hub;
  if (!hub) {
    throw new ModelInstallError(
      `"${manifest.id}" has no published ONNX copy to download. Export it on a machine with the checkpoint` +
        (manifest.source.exportScript ? ` (native-models/${manifest.source.exportScript}, see native-models/README.md)` : '') +
        ` and run: medreasoner models install ${manifest.id} --from <export folder>`,
    );
  }
  const variants = options.variants ?? [...new Set([manifest.defaultVariant.cpu, manifest.defaultVariant.cuda])];
  const files = manifest.files.filter((f) => !f.variants || f.variants.some((v) => variants.includes(v)));
  // Kept between attempts, so an interrupted download resumes.
  const downloadDir = path.join(options.modelsDir, `.${manifest.id}.download`);
  await mkdir(downloadDir, { recursive: true });
  for (const file of files) {
    const dest = path.join(downloadDir, ...file.path.split('/'));
    if ((await sizeOf(dest)) === file.size && file.size !== null) continue;
    const url = `${options.hubUrl ?? HUB_URL}/${hub.repo}/resolve/${encodeURIComponent(hub.revision)}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
    await downloadFile(url, dest, {
      expectedSize: file.size,
      label: file.path,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
    });
  }
  const downloaded: ModelManifest = { ...manifest, variants: manifest.variants.filter((v) => variants.includes(v.name)), files };
  downloaded.defaultVariant = {
    cpu: variants.includes(manifest.defaultVariant.cpu) ? manifest.defaultVariant.cpu : variants[0]!,
    cuda: variants.includes(manifest.defaultVariant.cuda) ? manifest.defaultVariant.cuda : variants[0]!,
  };
  await writeFile(path.join(downloadDir, MANIFEST_FILE), `${JSON.stringify(downloaded, null, 2)}\n`);
  const result = await installFromFolder({
    id: manifest.id,
    from: downloadDir,
    modelsDir: options.modelsDir,
    known: options.known,
    ...(options.onNote ? { onNote: options.onNote } : {}),
  });
  await rm(downloadDir, { recursive: true, force: true });
  return result;
}
