// Checks that what went through a PACS is what we sent, with readers that are not ours:
// pydicom compares two files attribute by attribute (the File Meta Information aside,
// which every receiver rewrites, and the meaningless trailing padding); a byte comparison checks data sets against what Orthanc
// itself holds.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const DEBIAN_PYTHON = '/usr/bin/python3';

const COMPARE_SCRIPT = String.raw`
import json, sys
import pydicom

def value_of(elem):
    if elem.VR == 'SQ':
        return None
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        return ('bytes', len(value), bytes(value).hex() if len(value) <= 64 else __import__('hashlib').sha256(bytes(value)).hexdigest())
    if isinstance(value, pydicom.multival.MultiValue):
        return [str(v) for v in value]
    return str(value)

# Data Set Trailing Padding carries nothing (PS3.10 7.2); senders such as storescu drop it.
IGNORED = {0xFFFCFFFC}

def compare(a, b, where, diffs):
    tags = sorted((set(a.keys()) | set(b.keys())) - IGNORED)
    for tag in tags:
        label = where + str(tag)
        if tag not in a or tag not in b:
            diffs.append(label + ' only in ' + ('first' if tag in a else 'second'))
            continue
        ea, eb = a[tag], b[tag]
        if ea.VR != eb.VR and 'UN' not in (ea.VR, eb.VR):
            diffs.append(label + ' VR ' + ea.VR + ' != ' + eb.VR)
            continue
        if ea.VR == 'SQ':
            if len(ea.value) != len(eb.value):
                diffs.append(label + ' items %d != %d' % (len(ea.value), len(eb.value)))
                continue
            for i, (ia, ib) in enumerate(zip(ea.value, eb.value)):
                compare(ia, ib, label + '[%d].' % i, diffs)
        elif value_of(ea) != value_of(eb):
            diffs.append(label + ' %r != %r' % (value_of(ea), value_of(eb)))

# Pairs by SOP Instance UID: {"originals": [...], "received": [...]} on stdin.
request = json.load(sys.stdin)
originals = {}
for path in request['originals']:
    ds = pydicom.dcmread(path)
    originals[str(ds.SOPInstanceUID)] = ds
report = {'sopOf': {}, 'unmatched': [], 'differences': {}}
for path in request['received']:
    ds = pydicom.dcmread(path)
    sop = str(ds.SOPInstanceUID)
    report['sopOf'][path] = sop
    if sop not in originals:
        report['unmatched'].append(path)
        continue
    diffs = []
    compare(originals[sop], ds, '', diffs)
    if diffs:
        report['differences'][path] = diffs
print(json.dumps(report))
`;

export interface ComparisonReport {
  /** SOP Instance UID of each received file, as pydicom reads it. */
  sopOf: Record<string, string>;
  /** Received files whose SOP Instance UID is not among the originals. */
  unmatched: string[];
  /** Received file → its differences from the original of the same SOP Instance UID (absent: none). */
  differences: Record<string, string[]>;
}

/** Pairs received files with originals by SOP Instance UID and compares each pair, in one pydicom run. */
export function pydicomCompare(originals: string[], received: string[]): ComparisonReport {
  if (!existsSync(DEBIAN_PYTHON)) throw new Error(`${DEBIAN_PYTHON} (with Debian's python3-pydicom) is missing: install python3-pydicom.`);
  const output = execFileSync(DEBIAN_PYTHON, ['-c', COMPARE_SCRIPT], { input: JSON.stringify({ originals, received }), encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(output) as ComparisonReport;
}

/** Attribute-by-attribute differences between two files' data sets (empty: the same content). */
export function pydicomDifferences(original: string, received: string): string[] {
  const report = pydicomCompare([original], [received]);
  if (report.unmatched.length > 0) return [`${received} is not the same SOP instance as ${original}`];
  return report.differences[received] ?? [];
}
