// The segmentation being edited on one series: its segments (with codes and
// provenance) and one labelmap over the whole series, plus the undo history and the
// AI preview. Pure TypeScript (no DOM, no Cornerstone) so every edit can be tested in
// Node; the views listen to `onChange` and redraw what changed.
//
// The labelmap layout is the host contract's: columns × rows × slices, x fastest,
// slices in the series' slice order (dicom.series), one byte a voxel (≤ 255 segments).
import { encodeLabelmap, type ProvenanceSchema, type SegmentationPayload, type SegmentSchema } from '../../../electron/common/contract-seg.ts';
import type { SliceChange } from './effect-job.ts';

export type LabelmapDims = { columns: number; rows: number; slices: number };
/** Millimetres: column spacing, row spacing, slice spacing. */
export type VoxelSpacing = { column: number; row: number; slice: number };

export type EditorSegment = SegmentSchema & { visible: boolean; locked: boolean };
export type NewSegment = Omit<SegmentSchema, 'number' | 'color'> & { color?: [number, number, number] };

/** A mask shown over one slice before it becomes a segment (the ask panel's answer, say). */
export type MaskPreview = { sliceIndex: number; mask: Uint8Array; color: [number, number, number] };

export type ModelChange =
  | { kind: 'labelmap'; firstSlice: number; lastSlice: number }
  | { kind: 'segments' }
  | { kind: 'active' }
  | { kind: 'preview' };

/** Slicer's first colours, so a new segment looks like it would there. */
const PALETTE: ReadonlyArray<[number, number, number]> = [
  [128, 174, 128],
  [241, 214, 145],
  [177, 122, 101],
  [111, 184, 210],
  [216, 101, 79],
  [221, 130, 101],
  [144, 238, 144],
  [192, 104, 88],
  [220, 245, 20],
  [78, 63, 0],
];

const MAX_SEGMENTS = 255;
/** Undo history beyond this is dropped, oldest first: a 512×512×500 volume edit is 131 MB a copy. */
const HISTORY_BYTE_BUDGET = 512 * 1024 * 1024;

type SliceBlock = { firstSlice: number; before: Uint8Array; after: Uint8Array };
type HistoryEntry = {
  label: string;
  blocks: SliceBlock[];
  segmentsBefore: EditorSegment[];
  segmentsAfter: EditorSegment[];
  bytes: number;
};

export type EditOptions = {
  /** Slices the edit may change (inclusive); the whole series when left out. */
  firstSlice?: number;
  lastSlice?: number;
  /**
   * Set for edits that create a segment's content as the source says (accepting an AI
   * answer): otherwise changing an AI segment's voxels makes it "AI then edited".
   */
  keepProvenance?: boolean;
};

export class SegmentationModel {
  readonly seriesKey: string;
  readonly dims: LabelmapDims;
  readonly spacing: VoxelSpacing;
  readonly labelmap: Uint8Array;
  private segmentList: EditorSegment[] = [];
  private active: number | null = null;
  private previewMask: MaskPreview | null = null;
  private undoStack: HistoryEntry[] = [];
  private redoStack: HistoryEntry[] = [];
  private listeners = new Set<(change: ModelChange) => void>();
  private revision = 0;
  private savedRevision = 0;

  constructor(seriesKey: string, dims: LabelmapDims, spacing: VoxelSpacing, labelmap?: Uint8Array) {
    if (dims.columns < 1 || dims.rows < 1 || dims.slices < 1) throw new RangeError(`a labelmap needs at least one voxel, got ${dims.columns}×${dims.rows}×${dims.slices}`);
    const length = dims.columns * dims.rows * dims.slices;
    if (labelmap && labelmap.length !== length) throw new RangeError(`labelmap holds ${labelmap.length} voxels, the series ${length}`);
    this.seriesKey = seriesKey;
    this.dims = dims;
    this.spacing = spacing;
    this.labelmap = labelmap ?? new Uint8Array(length);
  }

  get sliceLength(): number {
    return this.dims.columns * this.dims.rows;
  }

  get segments(): readonly EditorSegment[] {
    return this.segmentList;
  }

  get activeSegment(): number | null {
    return this.active;
  }

  get preview(): MaskPreview | null {
    return this.previewMask;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** What Ctrl+Z would undo, for the button's tooltip. */
  get undoLabel(): string | null {
    return this.undoStack.at(-1)?.label ?? null;
  }

  get redoLabel(): string | null {
    return this.redoStack.at(-1)?.label ?? null;
  }

  /** Unsaved changes since the last markSaved (autosave and the close prompt use it). */
  get dirty(): boolean {
    return this.revision !== this.savedRevision;
  }

  get changeRevision(): number {
    return this.revision;
  }

  markSaved(revision = this.revision): void {
    this.savedRevision = revision;
  }

  onChange(listener: (change: ModelChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  segment(number: number): EditorSegment | undefined {
    return this.segmentList.find((s) => s.number === number);
  }

  setActiveSegment(number: number | null): void {
    if (number !== null && !this.segment(number)) throw new RangeError(`there is no segment ${number}`);
    this.active = number;
    this.emit({ kind: 'active' });
  }

  /** Adds an empty segment (undoable) and makes it the active one. */
  addSegment(init: NewSegment): EditorSegment {
    const number = this.nextNumber();
    const segment: EditorSegment = { ...init, number, color: init.color ?? PALETTE[(number - 1) % PALETTE.length]!, visible: true, locked: false };
    this.recordSegmentsOnly(`Add ${segment.label}`, () => {
      this.segmentList = [...this.segmentList, segment];
    });
    this.active = number;
    this.emit({ kind: 'active' });
    return segment;
  }

  /** Renames, recolours, recodes, hides or locks a segment. Visibility and locking are view state: not undone. */
  updateSegment(number: number, patch: Partial<Omit<EditorSegment, 'number'>>): void {
    const current = this.segment(number);
    if (!current) throw new RangeError(`there is no segment ${number}`);
    const viewOnly = Object.keys(patch).every((key) => key === 'visible' || key === 'locked');
    const apply = () => {
      this.segmentList = this.segmentList.map((s) => (s.number === number ? { ...s, ...patch, number } : s));
    };
    if (viewOnly) {
      apply();
      this.emit({ kind: 'segments' });
      this.emit({ kind: 'labelmap', firstSlice: 0, lastSlice: this.dims.slices - 1 });
    } else {
      this.recordSegmentsOnly(`Edit ${current.label}`, apply);
    }
  }

  /** Deletes a segment and its voxels, as one undoable step. */
  removeSegment(number: number): void {
    const current = this.segment(number);
    if (!current) throw new RangeError(`there is no segment ${number}`);
    this.edit(`Delete ${current.label}`, (labelmap) => {
      for (let i = 0; i < labelmap.length; i++) if (labelmap[i] === number) labelmap[i] = 0;
      this.segmentList = this.segmentList.filter((s) => s.number !== number);
    }, { keepProvenance: true });
    if (this.active === number) {
      this.active = this.segmentList[0]?.number ?? null;
      this.emit({ kind: 'active' });
    }
  }

  /**
   * Runs one edit as one undoable step. `mutate` changes the labelmap in place (only
   * within the slice range) and may change segments through this model's methods'
   * effects on `segmentList` (it runs inside the step). Segments whose voxels change
   * turn from "ai" to "ai-edited" unless keepProvenance is set. Returns the number of
   * voxels changed (an edit that changes nothing leaves no history entry).
   */
  edit(label: string, mutate: (labelmap: Uint8Array) => void, options: EditOptions = {}): number {
    const firstSlice = Math.max(0, options.firstSlice ?? 0);
    const lastSlice = Math.min(this.dims.slices - 1, options.lastSlice ?? this.dims.slices - 1);
    if (firstSlice > lastSlice) return 0;
    const start = firstSlice * this.sliceLength;
    const end = (lastSlice + 1) * this.sliceLength;
    const before = this.labelmap.slice(start, end);
    const segmentsBefore = this.segmentList;
    mutate(this.labelmap);
    let changed = 0;
    let firstChanged = -1;
    let lastChanged = -1;
    const touched = new Set<number>();
    for (let i = start; i < end; i++) {
      const was = before[i - start]!;
      const now = this.labelmap[i]!;
      if (was !== now) {
        changed++;
        if (firstChanged < 0) firstChanged = i;
        lastChanged = i;
        touched.add(was).add(now);
      }
    }
    if (!options.keepProvenance && changed > 0) {
      this.segmentList = this.segmentList.map((s) => (touched.has(s.number) && s.provenance.source === 'ai' ? { ...s, provenance: markEdited(s.provenance) } : s));
    }
    const segmentsChanged = this.segmentList !== segmentsBefore;
    if (changed === 0 && !segmentsChanged) return 0;
    const blocks: SliceBlock[] = [];
    let bytes = 0;
    if (changed > 0) {
      // Keep only the slices that changed: a paint stroke on one slice of a 500-slice volume stays small.
      const sliceFrom = Math.floor(firstChanged / this.sliceLength);
      const sliceTo = Math.floor(lastChanged / this.sliceLength);
      const from = sliceFrom * this.sliceLength;
      const to = (sliceTo + 1) * this.sliceLength;
      blocks.push({ firstSlice: sliceFrom, before: before.slice(from - start, to - start), after: this.labelmap.slice(from, to) });
      bytes = 2 * (to - from);
    }
    this.push({ label, blocks, segmentsBefore, segmentsAfter: this.segmentList, bytes });
    if (segmentsChanged) this.emit({ kind: 'segments' });
    for (const block of blocks) this.emitBlock(block);
    return changed;
  }

  /**
   * Applies an effect computed elsewhere (the effects worker) as one undoable step: the
   * changed slices are copied in whole, so the page does one copy rather than the
   * effect. `basedOnRevision` is the revision the worker's copy was taken at: when the
   * document has changed since, nothing is applied and this throws, since the result
   * would undo that change.
   */
  applySlices(label: string, change: SliceChange, basedOnRevision: number, options: Pick<EditOptions, 'keepProvenance'> = {}): number {
    if (basedOnRevision !== this.revision) throw new StaleResultError(label);
    const n = this.sliceLength;
    if (change.after.length === 0 || change.after.length % n !== 0) throw new RangeError(`a change holds ${change.after.length} voxels, not whole slices of ${n}`);
    const lastSlice = change.firstSlice + change.after.length / n - 1;
    if (change.firstSlice < 0 || lastSlice >= this.dims.slices) throw new RangeError(`slices ${change.firstSlice}…${lastSlice} are outside the series (0…${this.dims.slices - 1})`);
    const offset = change.firstSlice * n;
    const before = this.labelmap.slice(offset, offset + change.after.length);
    const segmentsBefore = this.segmentList;
    this.labelmap.set(change.after, offset);
    if (!options.keepProvenance && change.changed > 0) {
      const touched = new Set(change.touched);
      this.segmentList = this.segmentList.map((s) => (touched.has(s.number) && s.provenance.source === 'ai' ? { ...s, provenance: markEdited(s.provenance) } : s));
    }
    const block: SliceBlock = { firstSlice: change.firstSlice, before, after: change.after };
    this.push({ label, blocks: [block], segmentsBefore, segmentsAfter: this.segmentList, bytes: 2 * before.length });
    if (this.segmentList !== segmentsBefore) this.emit({ kind: 'segments' });
    this.emitBlock(block);
    return change.changed;
  }

  undo(): boolean {
    const entry = this.undoStack.pop();
    if (!entry) return false;
    for (const block of entry.blocks) this.labelmap.set(block.before, block.firstSlice * this.sliceLength);
    this.segmentList = entry.segmentsBefore;
    this.redoStack.push(entry);
    this.afterHistoryMove(entry);
    return true;
  }

  redo(): boolean {
    const entry = this.redoStack.pop();
    if (!entry) return false;
    for (const block of entry.blocks) this.labelmap.set(block.after, block.firstSlice * this.sliceLength);
    this.segmentList = entry.segmentsAfter;
    this.undoStack.push(entry);
    this.afterHistoryMove(entry);
    return true;
  }

  setPreview(preview: MaskPreview | null): void {
    if (preview) {
      if (preview.mask.length !== this.sliceLength) throw new RangeError(`a preview mask holds ${preview.mask.length} pixels, a slice ${this.sliceLength}`);
      if (preview.sliceIndex < 0 || preview.sliceIndex >= this.dims.slices) throw new RangeError(`slice ${preview.sliceIndex} is outside the series (0…${this.dims.slices - 1})`);
    }
    this.previewMask = preview;
    this.emit({ kind: 'preview' });
  }

  /**
   * Turns the preview into a new segment, as one undoable step. Voxels of locked
   * segments are kept; others are overwritten (the newest answer wins, as in Slicer's
   * default "overwrite all" mode).
   */
  acceptPreview(init: NewSegment): EditorSegment {
    const preview = this.previewMask;
    if (!preview) throw new Error('there is no preview to accept');
    const number = this.nextNumber();
    const segment: EditorSegment = { ...init, number, color: init.color ?? preview.color, visible: true, locked: false };
    const locked = this.lockedNumbers();
    const offset = preview.sliceIndex * this.sliceLength;
    this.edit(
      `Accept ${segment.label}`,
      (labelmap) => {
        this.segmentList = [...this.segmentList, segment];
        for (let i = 0; i < preview.mask.length; i++) {
          if (preview.mask[i] && !locked.has(labelmap[offset + i]!)) labelmap[offset + i] = number;
        }
      },
      { firstSlice: preview.sliceIndex, lastSlice: preview.sliceIndex, keepProvenance: true },
    );
    this.previewMask = null;
    this.active = number;
    this.emit({ kind: 'preview' });
    this.emit({ kind: 'active' });
    return segment;
  }

  /** Values no effect may overwrite: locked segments. */
  lockedNumbers(): Set<number> {
    return new Set(this.segmentList.filter((s) => s.locked).map((s) => s.number));
  }

  /** The host contract's payload (export and autosave); null while there is no segment. */
  toPayload(): SegmentationPayload | null {
    if (this.segmentList.length === 0) return null;
    return {
      segments: this.segmentList.map(({ visible: _visible, locked: _locked, ...segment }) => segment),
      labelmap: encodeLabelmap(this.labelmap),
    };
  }

  /** Replaces everything with an imported or restored segmentation (not undoable: it starts a new document). */
  load(segments: SegmentSchema[], labelmap: Uint8Array | Uint16Array): void {
    if (labelmap.length !== this.labelmap.length) throw new RangeError(`the segmentation holds ${labelmap.length} voxels, the series ${this.labelmap.length}`);
    if (segments.length > MAX_SEGMENTS) throw new RangeError(`${segments.length} segments: the editor holds at most ${MAX_SEGMENTS}`);
    for (let i = 0; i < labelmap.length; i++) {
      const value = labelmap[i]!;
      if (value > MAX_SEGMENTS) throw new RangeError(`labelmap value ${value} is above ${MAX_SEGMENTS}`);
      this.labelmap[i] = value;
    }
    this.segmentList = segments.map((s) => ({ ...s, visible: true, locked: false }));
    this.active = this.segmentList[0]?.number ?? null;
    this.undoStack = [];
    this.redoStack = [];
    this.previewMask = null;
    this.revision++;
    this.emit({ kind: 'segments' });
    this.emit({ kind: 'active' });
    this.emit({ kind: 'preview' });
    this.emit({ kind: 'labelmap', firstSlice: 0, lastSlice: this.dims.slices - 1 });
  }

  private nextNumber(): number {
    const number = this.segmentList.reduce((max, s) => Math.max(max, s.number), 0) + 1;
    if (number > MAX_SEGMENTS) throw new RangeError(`a segmentation holds at most ${MAX_SEGMENTS} segments`);
    return number;
  }

  private recordSegmentsOnly(label: string, apply: () => void): void {
    const segmentsBefore = this.segmentList;
    apply();
    this.push({ label, blocks: [], segmentsBefore, segmentsAfter: this.segmentList, bytes: 0 });
    this.emit({ kind: 'segments' });
  }

  private push(entry: HistoryEntry): void {
    this.undoStack.push(entry);
    this.redoStack = [];
    this.revision++;
    let total = this.undoStack.reduce((sum, e) => sum + e.bytes, 0);
    while (total > HISTORY_BYTE_BUDGET && this.undoStack.length > 1) total -= this.undoStack.shift()!.bytes;
  }

  private afterHistoryMove(entry: HistoryEntry): void {
    this.revision++;
    this.emit({ kind: 'segments' });
    if (this.active !== null && !this.segment(this.active)) {
      this.active = this.segmentList[0]?.number ?? null;
      this.emit({ kind: 'active' });
    }
    for (const block of entry.blocks) this.emitBlock(block);
  }

  private emitBlock(block: SliceBlock): void {
    this.emit({ kind: 'labelmap', firstSlice: block.firstSlice, lastSlice: block.firstSlice + block.before.length / this.sliceLength - 1 });
  }

  private emit(change: ModelChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

/** An effect's result arrived after the document changed under it. */
export class StaleResultError extends Error {
  constructor(label: string) {
    super(`the segmentation changed while "${label}" ran, so its result was not applied: apply it again`);
    this.name = 'StaleResultError';
  }
}

function markEdited(provenance: ProvenanceSchema): ProvenanceSchema {
  return { ...provenance, source: 'ai-edited' };
}
