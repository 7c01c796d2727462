// `ask --dump-input <dir>`: exactly what the CRM received and wrote, so that an export can
// be checked by hand against the seed's Python (same picture, same text, same token ids).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encode } from 'fast-png';

export const DUMP_FILES = { image: 'crm-image.png', prompt: 'crm-prompt.txt', tokens: 'crm-tokens.json' } as const;

export interface CrmDump {
  /** The RGB picture handed to the processor (three equal channels), at the size the model saw. */
  rgb: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
  /** The chat-templated text, before the processor expands <|image_pad|>. */
  promptText: string;
  /** The processor's input_ids (image pad expanded). */
  inputIds: number[];
  generatedIds: number[];
  imageGridThw: number[];
  slice: { width: number; height: number };
  promptVariant: string;
}

export async function writeCrmDump(dir: string, dump: CrmDump): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const png = encode({ width: dump.width, height: dump.height, data: Uint8Array.from(dump.rgb), depth: 8, channels: 3 });
  const tokens = {
    promptVariant: dump.promptVariant,
    slice: dump.slice,
    seen: { width: dump.width, height: dump.height },
    image_grid_thw: dump.imageGridThw,
    input_ids: dump.inputIds,
    generated_ids: dump.generatedIds,
  };
  await writeFile(path.join(dir, DUMP_FILES.image), png);
  await writeFile(path.join(dir, DUMP_FILES.prompt), dump.promptText);
  await writeFile(path.join(dir, DUMP_FILES.tokens), `${JSON.stringify(tokens)}\n`);
  return Object.values(DUMP_FILES).map((name) => path.join(dir, name));
}
