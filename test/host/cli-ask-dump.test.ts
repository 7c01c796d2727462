// `medreasoner ask … --dump-input <dir>` on the embedded sample CT and the tiny models: the
// picture written is the one the CRM received (PIL's bicubic resize of the windowed slice to
// the size the model saw, PIL run here as the judge), the text is the chat-templated prompt
// whose tokens (image pad expanded) are the processor's input_ids, and the generated ids
// decode to the reply the command reported.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runAskCommand } from '../../electron/cli/commands/ask-command.ts';
import { DUMP_FILES } from '../../electron/host/inference/crm-dump.ts';
import { windowToUint8 } from '../../electron/host/inference/image-prep.ts';
import { seriesSlice, singleImageSeries } from '../../electron/host/inference/series-slice.ts';
import { writeSample } from '../../electron/host/sample/sample-store.ts';
import { writeTinyModels, type TinyModels } from '../../native-models/tiny/make-tiny-models.ts';
import { runProjectPython } from './qwen-reference.ts';

const PIL_RESIZE = String.raw`
import json, sys
import numpy as np
from PIL import Image
args = json.load(sys.stdin)
grey = np.fromfile(args["file"], dtype=np.uint8).reshape(args["height"], args["width"])
image = Image.fromarray(np.stack([grey] * 3, axis=-1)).resize((args["outWidth"], args["outHeight"]), Image.BICUBIC)
np.asarray(image).astype(np.uint8).tofile(args["file"] + ".pil")
print(json.dumps({"ok": True}))
`;

let root: string;
let seriesDir: string;
let models: TinyModels;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'medreasoner-cli-dump-'));
  await writeSample(path.join(root, 'sample'));
  seriesDir = path.join(root, 'sample', 'dicom');
  models = await writeTinyModels(path.join(root, 'models'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('medreasoner ask --dump-input', () => {
  const k = 40;
  const question = 'Where is the "liver" {left lobe}? – über';
  const window = { center: 40, width: 400 };

  test('writes the picture the CRM received, the templated prompt and the token ids', async () => {
    const dumpDir = path.join(root, 'dump');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAskCommand(
      ['--series', seriesDir, '--slice', String(k), '--question', question, '--window', `${window.center},${window.width}`, '--models', models.modelsDir, '--dump-input', dumpDir, '--json'],
      { out: (s) => out.push(s), err: (s) => err.push(s) },
    );
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const result = JSON.parse(out.join(''));
    expect(result.dumpInput).toBe(dumpDir);
    const { seen } = result.image as { width: number; height: number; seen: { width: number; height: number } };

    // The picture: RGB with equal channels at the size the model saw, equal to PIL's bicubic
    // resize of the windowed 8-bit slice.
    const png = decode(await readFile(path.join(dumpDir, DUMP_FILES.image)));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([seen.width, seen.height, 3, 8]);
    const slice = await seriesSlice(await singleImageSeries(seriesDir), k);
    const grey = windowToUint8(slice.pixels, window, slice.invert);
    const file = path.join(root, 'slice.raw');
    await writeFile(file, grey);
    await runProjectPython(PIL_RESIZE, { file, width: slice.width, height: slice.height, outWidth: seen.width, outHeight: seen.height });
    const pil = new Uint8Array(await readFile(`${file}.pil`));
    let differing = 0;
    for (let i = 0; i < pil.length; i++) if (pil[i] !== png.data[i]) differing++;
    expect(pil.length).toBe(png.data.length);
    expect(differing, 'values that differ from PIL bicubic').toBe(0);

    // The text and the ids: the templated prompt holds the question and one image slot; its
    // tokens with the slot expanded to the image's token count are the model's input_ids.
    const prompt = await readFile(path.join(dumpDir, DUMP_FILES.prompt), 'utf8');
    const tokens = JSON.parse(await readFile(path.join(dumpDir, DUMP_FILES.tokens), 'utf8'));
    expect(prompt).toContain(`Question: ${question}`);
    expect(prompt.split('<|vision_start|><|image_pad|><|vision_end|>')).toHaveLength(2);
    expect(prompt.startsWith('<|im_start|>')).toBe(true);
    expect(prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
    expect(tokens.seen).toEqual(seen);
    expect(tokens.slice).toEqual({ width: slice.width, height: slice.height });
    expect(tokens.image_grid_thw).toEqual([1, seen.height / 14, seen.width / 14]);
    const imageTokens = (seen.width / 28) * (seen.height / 28);
    expect(result.tokens.image).toBe(imageTokens);
    const tokenizer = await AutoTokenizer.from_pretrained(models.crmDir, { local_files_only: true });
    const expanded = prompt.replace('<|image_pad|>', '<|image_pad|>'.repeat(imageTokens));
    expect(tokens.input_ids).toEqual(tokenizer.encode(expanded, { add_special_tokens: false }));
    expect(tokens.input_ids).toHaveLength(result.tokens.prompt);

    // The reply: the generated ids decode to the raw text and end at <|im_end|>.
    expect(tokens.generated_ids).toHaveLength(result.tokens.generated);
    expect(tokenizer.decode(tokens.generated_ids, { skip_special_tokens: true })).toBe(result.rawText);
    expect(tokens.generated_ids.at(-1)).toBe(tokenizer.convert_tokens_to_ids('<|im_end|>'));
  });

  test('text mode says where the dump went', async () => {
    const dumpDir = path.join(root, 'dump-text');
    const out: string[] = [];
    const code = await runAskCommand(['--series', seriesDir, '--slice', String(k), '--question', 'q', '--models', models.modelsDir, '--dump-input', dumpDir], { out: (s) => out.push(s), err: () => {} });
    expect(code).toBe(0);
    expect(out.join('')).toContain(`CRM input and output tokens: ${dumpDir}`);
    const png = decode(await readFile(path.join(dumpDir, DUMP_FILES.image)));
    expect(png.channels).toBe(3);
  });
});
