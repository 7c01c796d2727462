// Text values (names, descriptions) decoded per Specific Character Set (0008,0005).
// dicom-parser reads bytes as Latin-1; a UTF-8 or GB18030 name would come out garbled.
import { TextDecoder } from 'node:util';

const LABEL_BY_TERM: Record<string, string> = {
  '': 'latin1',
  ISO_IR_6: 'latin1',
  ISO_IR_100: 'latin1',
  ISO_IR_101: 'iso-8859-2',
  ISO_IR_109: 'iso-8859-3',
  ISO_IR_110: 'iso-8859-4',
  ISO_IR_144: 'iso-8859-5',
  ISO_IR_127: 'iso-8859-6',
  ISO_IR_126: 'iso-8859-7',
  ISO_IR_138: 'iso-8859-8',
  ISO_IR_148: 'iso-8859-9',
  ISO_IR_166: 'windows-874',
  ISO_IR_13: 'shift_jis',
  ISO_IR_192: 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
  ISO_2022_IR_6: 'latin1',
  ISO_2022_IR_100: 'latin1',
  ISO_2022_IR_87: 'iso-2022-jp',
  ISO_2022_IR_13: 'shift_jis',
  ISO_2022_IR_149: 'euc-kr',
  ISO_2022_IR_58: 'gb18030',
};

const decoders = new Map<string, TextDecoder>();

/** The TextDecoder label for a Specific Character Set value (first term wins when it is multi-valued). */
export function decoderLabelFor(specificCharacterSet: string | undefined): string {
  const terms = (specificCharacterSet ?? '').split('\\').map((t) => t.trim().replace(/[ -]/g, '_'));
  // With code extensions the first term may be empty (default repertoire): use the next one.
  const term = terms.find((t) => t !== '') ?? '';
  return LABEL_BY_TERM[term] ?? 'latin1';
}

export function decodeText(bytes: Uint8Array, label: string): string {
  let decoder = decoders.get(label);
  if (!decoder) {
    try {
      decoder = new TextDecoder(label);
    } catch {
      decoder = new TextDecoder('latin1');
    }
    decoders.set(label, decoder);
  }
  // Values are padded with spaces (or NUL for UIDs); both are insignificant at the end.
  return decoder.decode(bytes).replace(/[\0 ]+$/, '').replace(/^ +/, '');
}
