// A small byte-level BPE tokenizer in the Hugging Face tokenizer.json format, with the
// special tokens of the Qwen2 family (<|im_start|>, <|im_end|>, <|vision_start|>,
// <|image_pad|>, …). Qwen's own tokenizer cannot be downloaded here, so the tiny CRM
// ships this one: generated from scratch (no vocabulary or merges copied from anywhere),
// same pipeline shape (regex split → byte-level → BPE → byte-level decode), so
// @huggingface/transformers loads it through exactly the code path Qwen's uses.

/** Special tokens of the Qwen2/Qwen2.5-VL tokenizer, in Qwen's order. */
export const QWEN_SPECIAL_TOKENS = [
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  '<|object_ref_start|>',
  '<|object_ref_end|>',
  '<|box_start|>',
  '<|box_end|>',
  '<|quad_start|>',
  '<|quad_end|>',
  '<|vision_start|>',
  '<|vision_end|>',
  '<|vision_pad|>',
  '<|image_pad|>',
  '<|video_pad|>',
] as const;
export type QwenSpecialToken = (typeof QWEN_SPECIAL_TOKENS)[number];

/**
 * Word-ish pieces, numbers digit by digit, punctuation runs, whitespace: our own pattern
 * (not Qwen's), written so JavaScript and Oniguruma read it the same way.
 */
export const SPLIT_PATTERN = "\\s?[A-Za-z]+|\\d|\\s?[^\\sA-Za-z\\d]+|\\s+(?!\\S)|\\s+";

/** The byte → printable character table of byte-level BPE (bytes that print stay themselves). */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  const kept = new Set(printable);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCodePoint(kept.has(b) ? b : 256 + extra++);
  }
  return table;
}

function pieces(text: string): string[][] {
  const table = byteToUnicode();
  const regex = new RegExp(SPLIT_PATTERN, 'gu');
  const bytes = new TextEncoder();
  return [...text.matchAll(regex)].map((m) => [...bytes.encode(m[0])].map((b) => table[b]!));
}

/** Learns `count` merges from `corpus` (most frequent adjacent pair first; ties by first seen). */
export function learnMerges(corpus: string, count: number): [string, string][] {
  let words = pieces(corpus);
  const merges: [string, string][] = [];
  for (let m = 0; m < count; m++) {
    const frequency = new Map<string, number>();
    const order: string[] = [];
    for (const word of words) {
      for (let i = 0; i + 1 < word.length; i++) {
        const key = `${word[i]}\u0000${word[i + 1]}`;
        if (!frequency.has(key)) order.push(key);
        frequency.set(key, (frequency.get(key) ?? 0) + 1);
      }
    }
    let best: string | null = null;
    for (const key of order) if (best === null || frequency.get(key)! > frequency.get(best)!) best = key;
    if (best === null || frequency.get(best)! < 2) break;
    const [left, right] = best.split('\u0000') as [string, string];
    merges.push([left, right]);
    words = words.map((word) => {
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else merged.push(word[i]!);
      }
      return merged;
    });
  }
  return merges;
}

export interface TinyTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfigJson: Record<string, unknown>;
  vocabSize: number;
  specialIds: Record<QwenSpecialToken, number>;
}

/**
 * Our own chat template producing Qwen2.5-VL's conversation format: a default system turn,
 * each image as <|vision_start|><|image_pad|><|vision_end|> in place, then the text.
 * (The real model folder carries the template of the exported checkpoint instead.)
 */
export const TINY_CHAT_TEMPLATE = [
  '{%- for message in messages -%}',
  "{%- if loop.first and message['role'] != 'system' -%}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif -%}",
  "{{ '<|im_start|>' + message['role'] + '\\n' }}",
  "{%- if message['content'] is string -%}{{ message['content'] }}",
  '{%- else -%}{%- for part in message[\'content\'] -%}',
  "{%- if part['type'] == 'image' -%}{{ '<|vision_start|><|image_pad|><|vision_end|>' }}",
  "{%- elif part['type'] == 'text' -%}{{ part['text'] }}{%- endif -%}",
  "{%- endfor -%}{%- endif -%}{{ '<|im_end|>\\n' }}",
  '{%- endfor -%}',
  "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}",
].join('');

export function buildTinyTokenizer(corpus: string, mergeCount = 200): TinyTokenizerFiles {
  const table = byteToUnicode();
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[table[b]!] = b;
  const merges = learnMerges(corpus, mergeCount);
  let next = 256;
  for (const [left, right] of merges) {
    const token = left + right;
    if (!(token in vocab)) vocab[token] = next++;
  }
  const specialIds = {} as Record<QwenSpecialToken, number>;
  const addedTokens = QWEN_SPECIAL_TOKENS.map((content) => {
    const id = next++;
    specialIds[content] = id;
    return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: SPLIT_PATTERN }, behavior: 'Isolated', invert: false }, byteLevel],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([l, r]) => `${l} ${r}`),
    },
  };
  const tokenizerConfigJson = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(addedTokens.map(({ id, ...rest }) => [String(id), rest])),
    bos_token: null,
    chat_template: TINY_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 32768,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  return { tokenizerJson, tokenizerConfigJson, vocabSize: next, specialIds };
}
