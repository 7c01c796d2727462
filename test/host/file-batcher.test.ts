// The renderer's FileBatcher against a fake host that answers batch URLs with the real
// framing (encodeRecordHeader): the order files go out in, batching, one fetch per file,
// the urgent jump, cancel, a refused (413) batch, and an unknown key.
import { describe, expect, it } from 'vitest';
import { encodeRecordHeader, FileBatchStatus } from '../../electron/common/file-batch-format.ts';
import { fetchBatchTransport, FileBatcher } from '../../renderer/src/cornerstone/file-batcher.ts';

const files = new Map(Array.from({ length: 10 }, (_, i) => [`k${i}`, new Uint8Array(Array.from({ length: 100 + i }, (_, j) => (i * 7 + j) % 256))]));

/** A fake host: records each URL asked for, answers after `delay` ms. */
function fakeHost(options: { delay?: number; refuseBatchesOver?: number } = {}) {
  const asked: string[][] = [];
  const singles: string[] = [];
  const aborted: string[][] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const parsed = new URL(url, 'http://h');
    await new Promise((resolve) => setTimeout(resolve, options.delay ?? 1));
    if (parsed.pathname.startsWith('/files/')) {
      const key = parsed.pathname.slice('/files/'.length);
      singles.push(key);
      const bytes = files.get(key);
      return bytes ? new Response(bytes) : new Response('no', { status: 404 });
    }
    const keys = (parsed.searchParams.get('keys') ?? '').split(',');
    asked.push(keys);
    if (init.signal?.aborted) {
      aborted.push(keys);
      throw new DOMException('aborted', 'AbortError');
    }
    if (options.refuseBatchesOver !== undefined && keys.length > options.refuseBatchesOver) return new Response('too large', { status: 413 });
    const parts: Uint8Array[] = [];
    for (const key of keys) {
      const bytes = files.get(key);
      const keyBytes = new TextEncoder().encode(key);
      const payload = bytes ?? new TextEncoder().encode(`No such file in the index: ${key}`);
      parts.push(encodeRecordHeader(bytes ? FileBatchStatus.ok : FileBatchStatus.unknown, keyBytes, payload.length), payload);
    }
    return new Response(new Blob(parts));
  };
  return { asked, singles, aborted, fetch };
}

function batcher(host: ReturnType<typeof fakeHost>, filesPerBatch = 3, batchesInFlight = 1) {
  return new FileBatcher({
    filesPerBatch,
    batchesInFlight,
    transport: fetchBatchTransport({ batchUrl: (keys) => `/file-batch?keys=${keys.join(',')}`, fileUrl: (key) => `/files/${key}`, fetch: host.fetch }),
  });
}

const same = (bytes: ArrayBuffer, key: string) => expect(new Uint8Array(bytes)).toEqual(files.get(key));

describe('FileBatcher', () => {
  it('sends files in the order asked, in batches of the configured size, each file once', async () => {
    const host = fakeHost();
    const b = batcher(host, 3, 1);
    const keys = ['k5', 'k4', 'k6', 'k3', 'k7', 'k5', 'k2'];
    const results = await Promise.all(keys.map((key) => b.get(key)));
    results.forEach((bytes, i) => same(bytes, keys[i] as string));
    expect(host.asked).toEqual([['k5', 'k4', 'k6'], ['k3', 'k7', 'k2']]);
    // A batch forgets its files once its response is read to the end, just after the last one resolves.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(b.size).toBe(0);
  });

  it('keeps only so many batches in flight and puts an urgent file before everything not yet sent', async () => {
    const host = fakeHost({ delay: 5 });
    const b = batcher(host, 2, 1);
    const normal = ['k0', 'k1', 'k2', 'k3', 'k4'].map((key) => b.get(key));
    await new Promise((resolve) => setTimeout(resolve, 2));
    const urgent = b.get('k9', true);
    const again = b.get('k4', true);
    await Promise.all([...normal, urgent, again]);
    expect(host.asked).toEqual([['k0', 'k1'], ['k4', 'k9'], ['k2', 'k3']]);
  });

  it('reports an unknown key on its own and serves the rest of its batch', async () => {
    const host = fakeHost();
    const b = batcher(host, 4, 1);
    const [first, missing, last] = await Promise.allSettled([b.get('k1'), b.get('nope'), b.get('k2')]);
    expect(first.status).toBe('fulfilled');
    same((first as PromiseFulfilledResult<ArrayBuffer>).value, 'k1');
    expect(missing).toMatchObject({ status: 'rejected', reason: { message: 'No such file in the index: nope' } });
    same((last as PromiseFulfilledResult<ArrayBuffer>).value, 'k2');
  });

  it('fetches each file of a batch refused as too large on its own', async () => {
    const host = fakeHost({ refuseBatchesOver: 1 });
    const b = batcher(host, 3, 1);
    const results = await Promise.all(['k1', 'k2', 'k3'].map((key) => b.get(key)));
    results.forEach((bytes, i) => same(bytes, `k${i + 1}`));
    expect(host.singles.sort()).toEqual(['k1', 'k2', 'k3']);
  });

  it('drops cancelled files not yet sent, and aborts a batch in flight once all of its files are cancelled', async () => {
    const host = fakeHost({ delay: 10 });
    const b = batcher(host, 2, 1);
    const loads = ['k0', 'k1', 'k2', 'k3'].map((key) => b.get(key));
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(b.cancel(['k0', 'k1', 'k3'])).toBe(3);
    const settled = await Promise.allSettled(loads);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'rejected']);
    expect((settled[3] as PromiseRejectedResult).reason).toMatchObject({ name: 'AbortError', message: 'the download of k3 was cancelled' });
    expect(host.aborted).toEqual([['k0', 'k1']]);
    expect(host.asked).toEqual([['k0', 'k1'], ['k2']]);
  });
});
