// What a hostile peer costs the host, measured against the unguarded way in the same run.
//   node bench/listener-hardening.ts [--instances 6] [--inflate-mb 48] [--flood-mb 32]
// 1. The main thread while received deflated instances are filed: our store (parse in the
//    instance-info worker) against parsing them on the main thread (readInstanceInfo, what
//    the store did before). Longest event-loop stall, from a 1 ms interval timer.
// 2. Memory while a peer announces a 1 GiB A-ASSOCIATE-RQ and pushes --flood-mb behind it:
//    our listener (PDU guard) against dcmjs-dimse's Scp on a bare socket.
import dcmjsDimse from 'dcmjs-dimse';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInstanceInfo } from '../electron/host/pacs/instance-info.ts';
import { InstanceStore } from '../electron/host/pacs/instance-store.ts';
import { StorageListener } from '../electron/host/pacs/storage-listener.ts';
import { ListenerLimits } from '../electron/common/contract-pacs.ts';
import { deflatedCt } from '../test/host/deflate-bomb.ts';
import { pduHeader, RawPeer } from '../test/host/raw-dicom-ul.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const INSTANCES = option('instances', 6);
const INFLATE_MB = option('inflate-mb', 48);
const FLOOD_MB = option('flood-mb', 32);
const folder = join(tmpdir(), `medreasoner-bench-listener-${process.pid}`);
mkdirSync(folder, { recursive: true });

/** Runs `work` while a 1 ms timer records the longest gap between its ticks. */
async function withStallMeter<T>(work: () => Promise<T>): Promise<{ result: T; wallMs: number; maxStallMs: number }> {
  let last = performance.now();
  let maxStallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxStallMs = Math.max(maxStallMs, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  try {
    const result = await work();
    return { result, wallMs: performance.now() - started, maxStallMs: Math.max(maxStallMs, performance.now() - last) };
  } finally {
    clearInterval(timer);
  }
}

async function rssGrowthDuring(work: () => Promise<void>): Promise<number> {
  const before = process.memoryUsage().rss;
  let highest = before;
  const sampler = setInterval(() => (highest = Math.max(highest, process.memoryUsage().rss)), 20);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(highest, process.memoryUsage().rss) - before;
}

const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);

try {
  // ── 1. main-thread stalls ──────────────────────────────────────────────────
  const files: Buffer[] = [];
  for (let i = 0; i < INSTANCES; i++) files.push(await deflatedCt(folder, `1.2.826.0.1.3680043.8.498.88.${i + 1}`, INFLATE_MB * 1024 * 1024, '1.2.826.0.1.3680043.8.498.88'));
  const paths = files.map((bytes, i) => {
    const file = join(folder, `received-${i}.dcm`);
    writeFileSync(file, bytes);
    return file;
  });
  const store = new InstanceStore(join(folder, 'store'));
  // Warm the worker and the page cache once, outside the measurement.
  await readInstanceInfo(paths[0]!);
  const warm = store.beginPart10();
  warm.stream.write(readFileSync(paths[0]!));
  await warm.finish();

  const inThread = await withStallMeter(async () => {
    for (const file of paths) await readInstanceInfo(file);
  });
  rmSync(join(folder, 'store'), { recursive: true, force: true });
  const ours = await withStallMeter(async () => {
    const fresh = new InstanceStore(join(folder, 'store'));
    for (const bytes of files) {
      const incoming = fresh.beginPart10();
      incoming.stream.write(bytes);
      await incoming.finish();
    }
  });
  console.log(`Filing ${INSTANCES} received deflated instances of ${INFLATE_MB} MB each (inflate budget 256 MB):\n`);
  console.log('| parse | wall ms | longest main-thread stall ms |');
  console.log('|---|---:|---:|');
  console.log(`| main thread (readInstanceInfo, before) | ${inThread.wallMs.toFixed(0)} | ${inThread.maxStallMs.toFixed(1)} |`);
  console.log(`| instance-info worker (InstanceStore) | ${ours.wallMs.toFixed(0)} | ${ours.maxStallMs.toFixed(1)} |`);
  console.log(`\nStall ratio main thread / worker: ${(inThread.maxStallMs / ours.maxStallMs).toFixed(1)}×\n`);

  // ── 2. a 1 GiB A-ASSOCIATE-RQ ──────────────────────────────────────────────
  const flood = async (port: number): Promise<string> => {
    const peer = await RawPeer.connect(port);
    await peer.write(pduHeader(0x01, 1024 * 1024 * 1024));
    await Promise.race([peer.flood(FLOOD_MB * 1024 * 1024), new Promise((resolve) => setTimeout(resolve, 15_000))]);
    const answer = await Promise.race([peer.readPdu(2000).catch(() => null), peer.closedPromise.then(() => null)]);
    peer.close();
    return answer ? `A-ASSOCIATE-RJ (0x0${answer.type})` : 'none (still buffering)';
  };

  const listener = new StorageListener({
    aeTitle: 'MEDREASONER',
    port: 0,
    bindAddress: '127.0.0.1',
    store,
    limits: ListenerLimits.parse({}),
    acceptCaller: async () => ({ accepted: true, node: 'bench' }),
  });
  await listener.start();
  let guardedAnswer = '';
  const guarded = await rssGrowthDuring(async () => {
    guardedAnswer = await flood(listener.port);
  });
  await listener.stop();

  const bare = net.createServer((socket) => {
    new dcmjsDimse.Scp(socket).on('networkError', () => socket.destroy());
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  let bareAnswer = '';
  const unguarded = await rssGrowthDuring(async () => {
    bareAnswer = await flood((bare.address() as net.AddressInfo).port);
  });
  bare.close();

  console.log(`A peer announces a 1 GiB A-ASSOCIATE-RQ and pushes ${FLOOD_MB} MiB behind it:\n`);
  console.log('| listener | RSS growth MiB | answer |');
  console.log('|---|---:|---|');
  console.log(`| ours (PDU guard) | ${mb(guarded)} | ${guardedAnswer} |`);
  console.log(`| dcmjs-dimse Scp, bare socket | ${mb(unguarded)} | ${bareAnswer} |`);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
process.exit(0);
