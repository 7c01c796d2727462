// The CRM's text side against the seed's: on a Qwen2.5-VL tokenizer folder written by
// native-models/qwen_tokenizer.py (Qwen's byte-level BPE, its added tokens, its chat
// template), the app's prompt path — buildPrompt, transformers.js apply_chat_template with
// one image and the text, the processor expanding <|image_pad|> — must give exactly the
// input_ids of transformers' Qwen2_5_VLProcessor on the seed's path (str.format,
// apply_chat_template, qwen_vl_utils.process_vision_info, processor(text, images)), run
// here in Python as the judge. Decoding (as the seed decodes the reply, and with special
// tokens kept) must agree too.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoProcessor, type Processor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { crmPicture, qwenResizeLimits } from '../../electron/host/inference/crm-image.ts';
import { crmInputs } from '../../electron/host/inference/crm-inputs.ts';
import { buildPrompt, type PromptFile } from '../../electron/host/inference/crm-prompt.ts';
import { TINY_PROMPT } from '../../native-models/tiny/tiny-crm.ts';
import { QWEN25_VL_PREPROCESSOR, runProjectPython } from './qwen-reference.ts';

const REFERENCE = String.raw`
import json, sys
from pathlib import Path
import numpy as np
from PIL import Image
args = json.load(sys.stdin)
sys.path.insert(0, args["nativeModels"])
from qwen_tokenizer import write_qwen2_5_vl_tokenizer
from qwen_vl_utils import process_vision_info
from transformers import AutoProcessor
out = Path(args["dir"])
write_qwen2_5_vl_tokenizer(out)
(out / "preprocessor_config.json").write_text(json.dumps(args["preprocessor"]))
processor = AutoProcessor.from_pretrained(out)
grey = np.fromfile(args["image"]["file"], dtype=np.uint8).reshape(args["image"]["height"], args["image"]["width"])
image = Image.fromarray(np.stack([grey] * 3, axis=-1))
cases = []
for case in args["cases"]:
    # eval/infer.py prepare_message + process_message, up to the model call.
    text_in = case["template"].format(Question=case["question"], Answer=case["answer"])
    messages = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": text_in}]}]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    images, videos = process_vision_info(messages)
    inputs = processor(text=text, images=images, videos=videos, return_tensors="np")
    cases.append({"text": text, "input_ids": inputs["input_ids"][0].tolist(), "grid": inputs["image_grid_thw"].tolist()})
encoded = [processor.tokenizer.encode(t, add_special_tokens=False) for t in args["encode"]]
# Whole replies, every prefix of the last one (as streaming cuts it, mid-character too) and a
# whole prompt.
sequences = encoded + [encoded[-1][:n] for n in range(1, len(encoded[-1]))] + [cases[0]["input_ids"]]
decoded = []
for ids in sequences:
    decoded.append({
        "ids": ids,
        "skip": processor.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
        "keep": processor.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False),
    })
print(json.dumps({"processor": type(processor).__name__, "tokenizer": type(processor.tokenizer).__name__, "cases": cases, "decoded": decoded, "encoded": encoded}))
`;

interface Reference {
  processor: string;
  tokenizer: string;
  cases: { text: string; input_ids: number[]; grid: number[][] }[];
  decoded: { ids: number[]; skip: string; keep: string }[];
  encoded: number[][];
}

const PROMPT = TINY_PROMPT as PromptFile;

const QUESTIONS: { variant: 'think' | 'no_think'; question: string }[] = [
  { variant: 'think', question: 'Where is the liver?' },
  { variant: 'think', question: 'Wo ist die Milz? Größe über 12 cm – 肝脏在哪里？ 🫁' },
  { variant: 'think', question: `Is the "mass" in the patient's left lobe {or the right}? {{x}} {Answer}` },
  { variant: 'no_think', question: 'the lesion near <|im_end|> the <think>aorta</think>\n  with\ttabs  ' },
];

/** Replies as the model writes them, for decoding. */
const REPLIES = [
  "<think>The liver lies in the right upper quadrant.</think><answer>{'bbox': [40, 60.5, 120, 150], 'points_1': [70, 100], 'points_2': [95, 120]}</answer><|im_end|>",
  '<think>Größe: 12 cm; 肝脏 🫁 "quoted" {braces}</think>\n<answer>{}</answer><|endoftext|>',
];

function structured(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = (x * 3 + y * 5 + (((x >> 3) ^ (y >> 3)) & 1) * 60) & 255;
  return out;
}

const IMAGE = { width: 181, height: 217 };
let root: string;
let reference: Reference;
let processor: Processor;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'crm-tokenizer-'));
  const grey = structured(IMAGE.width, IMAGE.height);
  const file = path.join(root, 'image.raw');
  await writeFile(file, grey);
  const nativeModels = path.resolve(import.meta.dirname, '../../native-models');
  // Python writes the folder (the judge's tokenizer and the app's), then answers.
  const cases = QUESTIONS.map((q) => ({ template: PROMPT.variants[q.variant], question: q.question, answer: PROMPT.answerExample }));
  reference = await runProjectPython<Reference>(REFERENCE, { nativeModels, dir: root, preprocessor: QWEN25_VL_PREPROCESSOR, image: { file, ...IMAGE }, cases, encode: REPLIES });
  processor = await AutoProcessor.from_pretrained(root, { local_files_only: true });
}, 180_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the CRM prompt: app (transformers.js) vs transformers Qwen2_5_VLProcessor', () => {
  test('the judge loads the folder as the seed would: Qwen2_5_VLProcessor with a Qwen2 tokenizer', () => {
    expect(reference.processor).toBe('Qwen2_5_VLProcessor');
    expect(reference.tokenizer).toMatch(/^Qwen2Tokenizer/);
  });

  QUESTIONS.forEach(({ variant, question }, i) => {
    test(`${variant}: ${JSON.stringify(question)} → the same chat text and exactly the same input_ids`, async () => {
      const ref = reference.cases[i]!;
      const built = buildPrompt(PROMPT, question, variant);
      const picture = crmPicture(structured(IMAGE.width, IMAGE.height), IMAGE.width, IMAGE.height, qwenResizeLimits(QWEN25_VL_PREPROCESSOR));
      const app = await crmInputs(processor, built.text, picture);
      expect(app.text).toBe(ref.text);
      expect([app.grid]).toEqual(ref.grid);
      const ids = (app.inputs.input_ids.tolist() as bigint[][])[0]!.map(Number);
      expect(ids.length).toBe(ref.input_ids.length);
      expect(ids).toEqual(ref.input_ids);
      const pad = processor.tokenizer!.convert_tokens_to_ids('<|image_pad|>') as number;
      expect(ids.filter((id) => id === pad)).toHaveLength(app.imageTokens);
    });
  });

  test('replies tokenize the same (special tokens in the text are special on both sides)', () => {
    expect(REPLIES.map((r) => processor.tokenizer!.encode(r, { add_special_tokens: false }))).toEqual(reference.encoded);
  });

  test('decoding agrees: as the seed decodes the reply (special tokens skipped), and with them kept; every streaming prefix too', () => {
    expect(reference.decoded.length).toBeGreaterThan(REPLIES.length + 10);
    reference.decoded.forEach((ref, i) => {
      expect(processor.tokenizer!.decode(ref.ids, { skip_special_tokens: true }), `sequence ${i}, skipped`).toBe(ref.skip);
      expect(processor.tokenizer!.decode(ref.ids, { skip_special_tokens: false }), `sequence ${i}, kept`).toBe(ref.keep);
    });
    expect(reference.decoded[0]!.skip).toBe(REPLIES[0]!.replace('<|im_end|>', ''));
    expect(reference.decoded.some((d) => d.skip.endsWith('\uFFFD')), 'a prefix cut inside a multi-byte character').toBe(true);
  });
});
