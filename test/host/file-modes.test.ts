// Patient data under the data folder is owner-only: folders 0700, files 0600, whatever
// the umask. The umask is 0 here, so a writer that leaves modes to open/mkdir defaults
// (0666/0777) or keeps a source file's mode (copyFile) shows up.
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLabelmap, type SegmentationPayload } from '../../electron/common/contract-seg.ts';
import { mkdirPrivate, writeFileAtomic } from '../../electron/host/atomic-file.ts';
import { InstanceStore } from '../../electron/host/pacs/instance-store.ts';
import { Outbox } from '../../electron/host/pacs/outbox.ts';
import { PAYLOAD_FILE } from '../../electron/host/pacs/outbox-store.ts';
import { PacsSettingsStore } from '../../electron/host/pacs/pacs-settings.ts';
import { AutosaveStore } from '../../electron/host/seg/autosave.ts';
import { CATEGORY, STRUCTURE } from '../../electron/host/seg/codes.ts';
import { ctSlice, makeTempDir, writeDicom } from './fixtures-dicom.ts';

const work = makeTempDir('file-modes');
let previousUmask: number;
let source: string;

const modeOf = (p: string) => statSync(p).mode & 0o777;
const octal = (mode: number) => mode.toString(8).padStart(4, '0');

beforeAll(() => {
  previousUmask = process.umask(0);
  const sources = path.join(work.path, 'sources');
  mkdirSync(sources);
  source = path.join(sources, 'ct.dcm');
  writeDicom(source, ctSlice({ studyUid: '1.2.88.1', seriesUid: '1.2.88.1.1', sopUid: '1.2.88.1.1.1', rows: 8, columns: 8, position: [0, 0, 0], orientation: [1, 0, 0, 0, 1, 0] }));
  chmodSync(source, 0o644); // what a file copied from a CD or a share looks like
});

afterAll(() => {
  process.umask(previousUmask);
  work.remove();
});

function expectPrivate(files: string[], folders: string[]): void {
  for (const file of files) expect(octal(modeOf(file)), file).toBe('0600');
  for (const folder of folders) expect(octal(modeOf(folder)), folder).toBe('0700');
}

describe('owner-only modes under the data folder', () => {
  it('the store: received instances and their study/series folders', async () => {
    const root = path.join(work.path, 'data', 'store');
    const store = new InstanceStore(root);
    const incoming = store.beginPart10();
    incoming.stream.write(readFileSync(source));
    const stored = await incoming.finish();
    expectPrivate([stored.path], [root, path.join(root, '.incoming'), path.dirname(stored.path), path.dirname(path.dirname(stored.path))]);
  });

  it('the outbox: the queued copy (not the source mode), its state and its folders', async () => {
    const dir = path.join(work.path, 'data', 'outbox');
    const outbox = await Outbox.open({ dir, resolveNode: async () => undefined, autoStart: false });
    try {
      const { queued } = await outbox.enqueue({ kind: 'saved', name: 'Nowhere' }, 'modes', [source]);
      expect(queued).toHaveLength(1);
      const itemDir = path.join(dir, 'items', queued[0]!.id);
      const files = [path.join(itemDir, PAYLOAD_FILE), path.join(itemDir, 'state.json')];
      expectPrivate(files, [dir, path.join(dir, 'items'), path.join(dir, 'staging'), itemDir]);
    } finally {
      await outbox.close();
    }
  });

  it('settings and autosave (atomic writes) and the folders made for them', async () => {
    const data = path.join(work.path, 'data2');
    await mkdirPrivate(data);
    const settings = new PacsSettingsStore(data);
    await settings.saveNode({ type: 'dimse', name: 'A', calledAet: 'A', host: '127.0.0.1', port: 104 });
    const segments: SegmentationPayload['segments'] = [{ number: 1, label: 'Liver', color: [60, 100, 100], category: CATEGORY.anatomicalStructure, type: STRUCTURE.liver, provenance: { source: 'manual' } }];
    const autosaves = new AutosaveStore(path.join(data, 'autosave', 'nested'));
    const saved = await autosaves.save({ sessionId: 's1', seriesKey: 'k', segmentation: { segments, labelmap: encodeLabelmap(new Uint8Array(64)) } });
    const seg = path.join(data, 'segmentations', 'SEG-1.dcm');
    await mkdirPrivate(path.dirname(seg));
    await writeFileAtomic(seg, [new Uint8Array(16)]);
    expectPrivate([settings.file, saved.file, seg], [data, path.join(data, 'autosave'), path.dirname(saved.file), path.dirname(seg)]);
  });

  it('a folder that exists already (one the user chose) keeps its mode', async () => {
    const chosen = path.join(work.path, 'chosen');
    mkdirSync(chosen, { mode: 0o755 });
    await mkdirPrivate(chosen);
    expect(octal(modeOf(chosen))).toBe('0755');
  });
});
