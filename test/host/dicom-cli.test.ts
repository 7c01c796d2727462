// `medreasoner index`: exit codes, the text report, and JSON that covers every file once.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runIndexCommand } from '../../electron/cli/commands/index-command.ts';
import type { IndexJson } from '../../electron/host/dicom/index-report.ts';
import { listFilesRecursively, PYDICOM_TEST_FILES } from './fixtures-dicom.ts';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runIndexCommand(args, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('medreasoner index', () => {
  test('usage errors exit 2 with a message on stderr', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('usage: medreasoner index');
    expect(none.out).toBe('');
    const unknown = await run(['--frobnicate', PYDICOM_TEST_FILES]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown option --frobnicate');
  });

  test('a path that does not exist is reported as unreadable, and the command still succeeds', async () => {
    const missing = join(PYDICOM_TEST_FILES, 'no-such-folder');
    const text = await run([missing]);
    expect(text.code).toBe(0);
    expect(text.out).toContain(missing);
    expect(text.out).toContain('unreadable');
    const json = JSON.parse((await run([missing, '--json'])).out) as IndexJson;
    expect(json.files).toEqual([expect.objectContaining({ path: missing, outcome: 'problem', reason: 'unreadable' })]);
  });

  test('--json lists every file of the corpus once, and each series its slices in order with paths', async () => {
    const result = await run([PYDICOM_TEST_FILES, '--json']);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.out) as IndexJson;
    const listed = json.files.map((f) => f.path);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(listFilesRecursively(PYDICOM_TEST_FILES).sort());
    expect(json.totals.files).toBe(listed.length);
    expect(json.totals.instances + json.totals.nonImage + json.totals.problems).toBe(listed.length);

    const ct = json.patients.flatMap((p) => p.studies).flatMap((s) => s.series).find((s) => s.instances.some((i) => i.path.endsWith('/CT_small.dcm')));
    expect(ct).toMatchObject({ modality: 'CT', kind: 'image', sliceCount: 1 });
    expect(ct!.instances[0]).toMatchObject({ path: join(PYDICOM_TEST_FILES, 'CT_small.dcm'), frame: null });
    expect(ct!.instances[0]!.position).toHaveLength(3);

    const dose = json.patients.flatMap((p) => p.studies).flatMap((s) => s.series).find((s) => s.kind === 'RTDOSE');
    expect(dose?.instances.map((i) => i.frame)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    const zs = dose!.instances.map((i) => i.position![2]);
    expect(zs).toEqual([...zs].sort((a, b) => a - b));
  });

  test('the text report lists patients, series with warnings, problems with reasons, and totals', async () => {
    const result = await run([PYDICOM_TEST_FILES]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Patient CompressedSamples\^CT1/);
    expect(result.out).toMatch(/Series #1 CT .*\[image\] 1 instance\(s\), 1 slice\(s\), 128×128/);
    expect(result.out).toMatch(/warning mixed-size:/);
    expect(result.out).toMatch(/MR_truncated\.dcm\n\s+truncated: /);
    expect(result.out).toMatch(/DICOMDIR files \(8\):/);
    expect(result.out).toMatch(/Totals: \d+ file\(s\): \d+ image instance\(s\) and \d+ other object\(s\)/);
  });
});
