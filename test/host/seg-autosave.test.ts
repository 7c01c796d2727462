// Autosave: work in progress is written atomically every few seconds and survives a
// kill. The kill test runs a real child process (the node binary `npx node` runs) that
// edits a labelmap and autosaves it, SIGKILLs it at a moment of its choosing, restores,
// and checks that no edit older than the autosave interval was lost.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeLabelmap, encodeLabelmap, type SegmentationPayload } from '../../electron/common/contract-seg.ts';
import { Autosaver, AutosaveStore } from '../../electron/host/seg/autosave.ts';
import { CATEGORY, STRUCTURE } from '../../electron/host/seg/codes.ts';
import { tempDir } from './seg-fixtures.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const scratch = tempDir('seg-autosave');
afterAll(() => scratch.remove());

const segments: SegmentationPayload['segments'] = [1, 2, 3].map((number) => ({
  number,
  label: `Segment ${number}`,
  color: [number * 60, 100, 100],
  category: CATEGORY.anatomicalStructure,
  type: STRUCTURE.liver,
  provenance: { source: 'manual' },
}));

/** The child: one edit every 10 ms (voxel n gets value 1 + n % 3), autosaved by an Autosaver. */
function childScript(): string {
  const url = (p: string) => pathToFileURL(path.join(ROOT, p)).href;
  return `
import { Autosaver, AutosaveStore } from ${JSON.stringify(url('electron/host/seg/autosave.ts'))};
import { encodeLabelmap } from ${JSON.stringify(url('electron/common/contract-seg.ts'))};
const [dir, interval] = process.argv.slice(2);
const store = new AutosaveStore(dir);
const labelmap = new Uint8Array(64 * 64 * 40);
const segments = ${JSON.stringify(segments)};
let edits = 0;
const saver = new Autosaver({
  intervalMs: Number(interval),
  snapshot: () => ({ sessionId: 'kill-test', seriesKey: 'series-1', segmentation: { segments, labelmap: encodeLabelmap(labelmap) } }),
  write: async (state) => { await store.save(state); },
  onSaved: ({ durationMs }) => console.log('saved ' + durationMs + ' ' + Date.now()),
  onError: (error) => console.log('error ' + error),
});
setInterval(() => {
  edits++;
  labelmap[edits * 37] = 1 + (edits % 3);
  saver.markDirty();
  console.log('edit ' + edits + ' ' + Date.now());
}, 10);
console.log('ready');
`;
}

interface Run {
  edits: Map<number, number>;
  saves: number[];
  killedAt: number;
}

function runAndKill(dir: string, intervalMs: number, killAfterMs: number): Promise<Run> {
  const script = path.join(dir, 'child.ts');
  writeFileSync(script, childScript());
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [script, dir, String(intervalMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const edits = new Map<number, number>();
    const saves: number[] = [];
    let stderr = '';
    let buffered = '';
    let killedAt = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [kind, a, b] = line.split(' ');
        if (kind === 'edit') edits.set(Number(a), Number(b));
        else if (kind === 'saved') saves.push(Number(a));
        else if (kind === 'ready') setTimeout(() => {
          killedAt = Date.now();
          child.kill('SIGKILL');
        }, killAfterMs);
      }
    });
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code ?? signal} before the kill: ${stderr}`));
      else resolve({ edits, saves, killedAt });
    });
  });
}

describe('autosave survives a kill', () => {
  it.each([
    [300, 1234],
    [300, 1517],
    [500, 2009],
  ])('interval %i ms, SIGKILL after %i ms: no edit older than the interval is lost', async (intervalMs, killAfterMs) => {
    const dir = path.join(scratch.path, `kill-${intervalMs}-${killAfterMs}`);
    mkdirSync(dir, { recursive: true });
    const run = await runAndKill(dir, intervalMs, killAfterMs);
    expect(run.saves.length, 'the child saved at least twice before the kill').toBeGreaterThanOrEqual(2);

    const store = new AutosaveStore(dir);
    await store.removeStaleTempFiles();
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const record = await store.load('kill-test');
    const labelmap = decodeLabelmap(record.segmentation.labelmap);
    const old = [...run.edits].filter(([, at]) => at <= run.killedAt - intervalMs);
    expect(old.length, 'edits older than the interval').toBeGreaterThan(20);
    const lost = old.filter(([n]) => labelmap[n * 37] !== 1 + (n % 3)).map(([n]) => n);
    expect(lost).toEqual([]);
    // Nothing the child never made is in the file.
    const newest = Math.max(...run.edits.keys());
    for (let n = newest + 1; n * 37 < labelmap.length; n++) expect(labelmap[n * 37]).toBe(0);
  });
});

describe('AutosaveStore and Autosaver', () => {
  const payload = (fill: number): SegmentationPayload => ({ segments, labelmap: encodeLabelmap(new Uint8Array(1000).fill(fill, 0, 10)) });

  it('keeps the last of concurrent saves, lists, restores and discards', async () => {
    const store = new AutosaveStore(path.join(scratch.path, 'store'));
    await Promise.all([1, 2, 3].map((fill) => store.save({ sessionId: 's:1', seriesKey: 'k', segmentation: payload(fill) })));
    const record = await store.load('s:1');
    expect(decodeLabelmap(record.segmentation.labelmap)[0]).toBe(3);
    expect((await store.list()).map((a) => [a.sessionId, a.seriesKey, a.segmentCount])).toEqual([['s:1', 'k', 3]]);
    expect(await store.discard('s:1')).toBe(true);
    expect(await store.discard('s:1')).toBe(false);
    await expect(store.load('s:1')).rejects.toThrow('No autosave for session s:1.');
  });

  it('refuses a damaged autosave with what is wrong', async () => {
    const store = new AutosaveStore(path.join(scratch.path, 'damaged'));
    await store.save({ sessionId: 'd', seriesKey: 'k', segmentation: payload(1) });
    writeFileSync(store.fileFor('d'), '{"format":"medreasoner-seg-autosave"');
    await expect(store.load('d')).rejects.toThrow(/^The autosave of session d \(.*d\.autosave\.json\) is not valid JSON: /);
    expect(() => store.fileFor('../x')).toThrow('session id "../x" may hold only letters, digits and _.:-');
  });

  it('saves within the interval of the first unsaved edit, and once for a burst', async () => {
    const writes: number[] = [];
    let state = 0;
    const saver = new Autosaver({ intervalMs: 200, snapshot: () => state, write: async (s) => void writes.push(s) });
    const started = Date.now();
    for (let i = 1; i <= 5; i++) {
      state = i;
      saver.markDirty();
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 250));
    expect(writes).toEqual([5]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    state = 6;
    saver.markDirty();
    await saver.stop();
    expect(writes).toEqual([5, 6]);
    expect(() => new Autosaver({ intervalMs: 10, snapshot: () => 0, write: async () => {} })).toThrow('autosave interval must be at least 50 ms, got 10');
  });
});
