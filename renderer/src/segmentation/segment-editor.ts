// The Segment Editor: one SegmentationModel per opened series (kept while the app
// runs, so going back to a series finds its segments), the overlay and mouse tools on
// the stack viewport, the segments panel, undo/redo keys and autosave with restore.
import { decodeLabelmap } from '../../../electron/common/contract-seg.ts';
import type { HostApi } from '../../../electron/common/contract.ts';
import type { SeriesDetail } from '../../../electron/common/dicom-model.ts';
import { Autosaver } from '../../../electron/host/seg/autosave-scheduler.ts';
import { imageIdsForSlices } from '../cornerstone/image-ids.ts';
import type { StackViewer } from '../cornerstone/stack-viewer.ts';
import type { PlaneStrokeReport, SegmentationTestHook } from '../test-hook-types.ts';
import { el } from '../ui/dom.ts';
import { brushKeyDirection } from './brush-keys.ts';
import { CornerstoneLabelmap } from './cornerstone-labelmap.ts';
import { createEffectsView } from './effects-view.ts';
import { EffectsWorkerClient } from './effects-worker-client.ts';
import type { EditorContext } from './editor-context.ts';
import { messageOf } from './error-text.ts';
import { PlaneEditing } from './plane-editing.ts';
import { SegmentSurfaceDisplay } from './segment-surface-display.ts';
import type { SurfaceGeometry } from './segment-surface.ts';
import { paintStroke } from './segment-effects.ts';
import { createSegmentIoView } from './segment-io-view.ts';
import { createSegmentListView } from './segment-list-view.ts';
import { SegmentOverlay, type OverlayTool } from './segment-overlay.ts';
import { segmentStatistics, sliceCounts } from './segment-statistics.ts';
import { SegmentationModel, type LabelmapDims, type VoxelSpacing } from './segmentation-model.ts';
import { SeriesIntensities } from './series-intensities.ts';
import { createStatisticsView } from './statistics-view.ts';
import './segmentation.css';

export type SegmentEditorOptions = {
  host: HostApi;
  viewer: StackViewer;
  /** Series details (the app's cache); asked of the host directly when left out. */
  seriesDetail?: (seriesKey: string) => Promise<SeriesDetail>;
  /** Milliseconds from an edit to its autosave at the latest. */
  autosaveIntervalMs?: number;
  /**
   * Who draws the labelmap: Cornerstone3D's segmentation rendering (the default), or
   * the editor's own canvas overlay (also the fallback when Cornerstone's fails).
   */
  labelmapRenderer?: 'cornerstone' | 'canvas';
};

export type SegmentEditor = {
  element: HTMLElement;
  model(): SegmentationModel | null;
  onModelChange(listener: (model: SegmentationModel | null) => void): () => void;
  /** Shows the current series' segments on these volume viewports (the planes and the 3D pane) as well. */
  showOnPlanes(viewportIds: readonly string[]): void;
  /**
   * Lets the planes' segment tools (Cornerstone's brush and scissors, tool group
   * `toolGroupId`) edit the document: strokes in `element` become undoable edits.
   */
  editOnPlanes(element: HTMLElement, toolGroupId: string, primaryTool: () => string): void;
  /** The 3D pane's viewport (null when it is put away): the segments show there as surfaces. */
  showIn3D(viewportId: string | null): void;
  testHook: SegmentationTestHook;
};

type Session = { model: SegmentationModel; detail: SeriesDetail; sessionId: string; autosaver: Autosaver<{ payload: ReturnType<SegmentationModel['toPayload']> }> };

const DEFAULT_AUTOSAVE_MS = 3000;

export function createSegmentEditor(options: SegmentEditorOptions): SegmentEditor {
  const { host, viewer } = options;
  const seriesDetail = options.seriesDetail ?? ((seriesKey: string) => host.call('dicom.series', { seriesKey }));
  const sessions = new Map<string, Session>();
  const intensities = new SeriesIntensities();
  const modelListeners = new Set<(model: SegmentationModel | null) => void>();
  let current: Session | null = null;
  let openingKey: string | null = null;
  let tool: OverlayTool = { kind: 'none' };
  let lastMessage: { text: string; kind: 'info' | 'error' } | null = null;
  let lastExportPath: string | null = null;
  let busy = 0;

  const csLabelmap = new CornerstoneLabelmap(viewer.viewportId);
  let labelmapRenderer: 'cornerstone' | 'canvas' = 'canvas';
  const message = el('div', { class: 'seg-message', 'data-testid': 'segment-message', role: 'status' });
  const overlay = new SegmentOverlay(viewer, {
    onStroke: (points) => {
      const model = current?.model;
      if (!model || tool.kind !== 'brush') return;
      const target = editTarget(model);
      if (!target) return;
      const brush = tool;
      const slice = points[0]!.slice;
      const reach = brush.shape === '3d' ? Math.floor(brush.radiusMm / model.spacing.slice) : 0;
      model.edit(brush.mode === 'paint' ? 'Paint' : 'Erase', (labelmap) => paintStroke(labelmap, model, points, brush, target), { firstSlice: slice - reach, lastSlice: slice + reach });
    },
    onPolygon: (polygon, slice) => effects.applyScissors(polygon, slice),
  });

  const effectsWorker = new EffectsWorkerClient();
  const surfaces3d = new SegmentSurfaceDisplay(effectsWorker);
  const context: EditorContext = {
    host,
    viewer,
    overlay,
    effects: effectsWorker,
    model: () => current?.model ?? null,
    detail: () => current?.detail ?? null,
    intensities: () => {
      const session = current;
      if (!session) return Promise.reject(new Error('open a series first'));
      return track(
        intensities.get(session.model.seriesKey, imageIdsForSlices(host, session.detail.slices), session.model.dims, (loaded, total) => {
          if (loaded % 10 === 0 || loaded === total) report(`Reading the image values: ${loaded} of ${total} slices…`);
        }),
      );
    },
    target: (model) => editTarget(model),
    setTool: (next) => {
      tool = next;
      overlay.setTool(next);
      refresh();
    },
    tool: () => tool,
    report,
    track,
    refresh: () => refresh(),
    afterExport: async (path) => {
      lastExportPath = path;
      const session = current;
      if (!session) return;
      session.model.markSaved();
      // The export holds everything: the autosave would only offer it again at the next start.
      await session.autosaver.flush().catch(() => {});
      await host.call('seg.discardAutosave', { sessionId: session.sessionId }).catch(() => {});
    },
    restore: async (sessionId) => {
      const session = current;
      if (!session) return;
      const record = await host.call('seg.restore', { sessionId });
      if (record.seriesKey !== session.model.seriesKey) throw new Error(`that autosave belongs to another series (${record.seriesKey})`);
      session.model.load(record.segmentation.segments, decodeLabelmap(record.segmentation.labelmap));
      // Go on saving into the restored session, so its file does not linger beside a new one.
      await host.call('seg.discardAutosave', { sessionId: session.sessionId }).catch(() => {});
      session.sessionId = sessionId;
    },
  };

  const list = createSegmentListView(context);
  const effects = createEffectsView(context);
  const planes = new PlaneEditing({ labelmap: csLabelmap, model: () => current?.model ?? null, target: editTarget, settings: () => effects.planeSettings(), report });
  const statistics = createStatisticsView(context);
  const io = createSegmentIoView(context);
  const undoButton = el('button', { class: 'button button-small', type: 'button', 'data-testid': 'segment-undo', title: 'Undo (Ctrl+Z)' }, 'Undo');
  const redoButton = el('button', { class: 'button button-small', type: 'button', 'data-testid': 'segment-redo', title: 'Redo (Ctrl+Y)' }, 'Redo');
  undoButton.addEventListener('click', () => current?.model.undo());
  redoButton.addEventListener('click', () => current?.model.redo());
  const seriesNote = el('div', { class: 'seg-series-note', 'data-testid': 'segment-series' }, 'Open a series to segment it.');

  const element = el(
    'aside',
    { class: 'seg-panel panel', 'data-testid': 'segment-editor' },
    el('div', { class: 'panel-title' }, el('span', {}, 'Segmentation'), el('span', { class: 'seg-history' }, undoButton, redoButton)),
    seriesNote,
    io.restoreElement,
    list.element,
    effects.element,
    statistics.element,
    io.element,
    message,
  );

  document.addEventListener('keydown', (event) => {
    if (!current) return;
    const target = event.target as HTMLElement | null;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || target.isContentEditable)) return;
    if (event.ctrlKey || event.metaKey) {
      const key = event.key.toLowerCase();
      if (key === 'z' && !event.shiftKey) current.model.undo();
      else if (key === 'y' || (key === 'z' && event.shiftKey)) current.model.redo();
      else return;
    } else {
      // The brush's keys (brush-keys.ts): one radius for the stack view's brush and the planes'.
      const direction = event.altKey ? null : brushKeyDirection(event.key);
      if (direction === null) return;
      report(`Brush radius ${effects.stepBrushRadius(direction)} mm.`);
    }
    event.preventDefault();
  });

  viewer.onChange((state) => {
    if (state.seriesKey === (current?.model.seriesKey ?? null) || state.seriesKey === openingKey) return;
    if (state.seriesKey === null) return setCurrent(null);
    void open(state.seriesKey);
  });

  async function open(seriesKey: string): Promise<void> {
    openingKey = seriesKey;
    try {
      const existing = sessions.get(seriesKey);
      const session = existing ?? createSession(seriesKey, await seriesDetail(seriesKey));
      if (viewer.state.seriesKey !== seriesKey) return;
      sessions.set(seriesKey, session);
      setCurrent(session);
      if (!existing) await io.offerRestore(seriesKey, session.sessionId);
    } catch (error) {
      report(`The segment editor could not open this series: ${messageOf(error)}`, 'error');
    } finally {
      if (openingKey === seriesKey) openingKey = null;
    }
  }

  function createSession(seriesKey: string, detail: SeriesDetail): Session {
    const model = new SegmentationModel(seriesKey, dimsOf(detail), spacingOf(detail));
    const session: Session = {
      model,
      detail,
      sessionId: newSessionId(),
      autosaver: new Autosaver({
        intervalMs: options.autosaveIntervalMs ?? DEFAULT_AUTOSAVE_MS,
        snapshot: () => ({ payload: model.toPayload() }),
        write: async ({ payload }) => {
          if (!payload) return;
          await host.call('seg.autosave', { sessionId: session.sessionId, seriesKey, segmentation: payload });
        },
        onError: (error) => report(`Autosave failed: ${messageOf(error)}`, 'error'),
      }),
    };
    let revision = model.changeRevision;
    model.onChange((change) => {
      if (model.changeRevision !== revision) {
        revision = model.changeRevision;
        session.autosaver.markDirty();
      }
      if (csLabelmap.attachedModel === model) {
        if (change.kind === 'labelmap') csLabelmap.syncSlices(change.firstSlice, change.lastSlice);
        if (change.kind === 'segments' || change.kind === 'active') csLabelmap.syncSegments();
      }
      if (current?.model !== model) return;
      if (change.kind === 'labelmap' || change.kind === 'segments') {
        overlay.requestDraw();
        surfaces3d.schedule();
      }
      if (change.kind !== 'preview') refresh();
    });
    return session;
  }

  function setCurrent(session: Session | null): void {
    if (current === session) return;
    current = session;
    overlay.setModel(session?.model ?? null);
    overlay.setPreviewMask(null);
    surfaces3d.setModel(session?.model ?? null, session ? surfaceGeometryOf(session.detail) : null, session?.detail.series.geometry?.frameOfReferenceUid ?? '');
    showLabelmap(session);
    refresh();
    for (const listener of modelListeners) listener(session?.model ?? null);
  }

  /** Hands the labelmap to Cornerstone's segmentation rendering once it is set up; the overlay draws it until then. */
  function showLabelmap(session: Session | null): void {
    csLabelmap.detach();
    labelmapRenderer = 'canvas';
    overlay.setDrawLabelmap(true);
    if (!session || (options.labelmapRenderer ?? 'cornerstone') !== 'cornerstone') return;
    void csLabelmap
      .attach(session.model, imageIdsForSlices(host, session.detail.slices))
      .then(() => {
        if (current !== session) return;
        labelmapRenderer = 'cornerstone';
        overlay.setDrawLabelmap(false);
        refresh();
      })
      .catch((error: unknown) => {
        if (current === session) report(`Cornerstone's segmentation display failed (${messageOf(error)}): the editor draws the segments itself.`, 'error');
      });
  }

  function editTarget(model: SegmentationModel): { segment: number; locked: Set<number> } | null {
    const active = model.activeSegment;
    if (active === null) {
      report('Add or select a segment first.', 'error');
      return null;
    }
    if (model.segment(active)?.locked) {
      report(`"${model.segment(active)?.label}" is locked: unlock it to edit it.`, 'error');
      return null;
    }
    return { segment: active, locked: model.lockedNumbers() };
  }

  function report(text: string, kind: 'info' | 'error' = 'info'): void {
    lastMessage = { text, kind };
    message.textContent = text;
    message.classList.toggle('seg-message-error', kind === 'error');
  }

  async function track<T>(work: Promise<T>): Promise<T> {
    busy++;
    element.classList.add('seg-busy');
    try {
      return await work;
    } finally {
      busy--;
      if (busy === 0) element.classList.remove('seg-busy');
    }
  }

  let refreshQueued = false;
  function refresh(): void {
    if (refreshQueued) return;
    refreshQueued = true;
    queueMicrotask(() => {
      refreshQueued = false;
      const model = current?.model ?? null;
      seriesNote.textContent = current ? `${current.detail.series.description || current.detail.series.seriesKey} · ${model!.dims.columns}×${model!.dims.rows}×${model!.dims.slices}` : 'Open a series to segment it.';
      undoButton.disabled = !model?.canUndo;
      redoButton.disabled = !model?.canRedo;
      undoButton.title = model?.undoLabel ? `Undo ${model.undoLabel} (Ctrl+Z)` : 'Undo (Ctrl+Z)';
      redoButton.title = model?.redoLabel ? `Redo ${model.redoLabel} (Ctrl+Y)` : 'Redo (Ctrl+Y)';
      list.render();
      effects.render();
      planes.configure();
      statistics.render();
      io.render();
    });
  }

  // Tests poll the state every 100 ms: count the voxels once per revision, not once per poll,
  // so the polling itself adds no long tasks to what the long-task test measures.
  let counted: { model: SegmentationModel; revision: number; segments: readonly unknown[]; stats: ReturnType<typeof segmentStatistics> } | null = null;
  function countsOf(model: SegmentationModel): ReturnType<typeof segmentStatistics> {
    if (counted?.model !== model || counted.revision !== model.changeRevision || counted.segments !== model.segments) {
      counted = { model, revision: model.changeRevision, segments: model.segments, stats: segmentStatistics(model.labelmap, model, model.segments.map((s) => s.number)) };
    }
    return counted.stats;
  }

  function planeStrokeReport(): PlaneStrokeReport | null {
    const last = planes.lastCommit;
    if (!last) return null;
    return { label: last.label, firstSlice: last.span?.firstSlice ?? null, lastSlice: last.span?.lastSlice ?? null, compared: last.compared, changed: last.changed, rejected: last.rejected };
  }

  const testHook: SegmentationTestHook = {
    state: () => {
      const model = current?.model ?? null;
      const counts = model ? countsOf(model) : [];
      return {
        seriesKey: model?.seriesKey ?? null,
        dims: model ? { ...model.dims } : null,
        segments: (model?.segments ?? []).map((s, i) => ({
          number: s.number,
          label: s.label,
          source: s.provenance.source,
          typeCode: s.type.value,
          visible: s.visible,
          locked: s.locked,
          color: [...s.color] as [number, number, number],
          voxels: counts[i]?.voxels ?? 0,
        })),
        activeSegment: model?.activeSegment ?? null,
        canUndo: model?.canUndo ?? false,
        canRedo: model?.canRedo ?? false,
        tool: tool.kind === 'brush' ? tool.mode : tool.kind,
        labelmapRenderer,
        busy: busy > 0,
        message: lastMessage,
        lastExportPath,
        autosaveSessionId: current?.sessionId ?? null,
        effect: effects.effectState(),
        surfaces: surfaces3d.state,
        planeStroke: planeStrokeReport(),
      };
    },
    sliceCounts: (slice) => {
      const model = current?.model;
      if (!model) return {};
      return Object.fromEntries(sliceCounts(model.labelmap, model, slice));
    },
    segmentVoxelsOnSlice: (segment, slice) => {
      const model = current?.model;
      if (!model) return [];
      const { columns, rows } = model.dims;
      const out: Array<[number, number]> = [];
      const offset = slice * columns * rows;
      for (let i = 0; i < columns * rows; i++) if (model.labelmap[offset + i] === segment) out.push([i % columns, Math.floor(i / columns)]);
      return out;
    },
    labelmapBase64: () => {
      const model = current?.model;
      if (!model) return null;
      let text = '';
      const chunk = 0x8000;
      for (let i = 0; i < model.labelmap.length; i += chunk) text += String.fromCharCode(...model.labelmap.subarray(i, i + chunk));
      return btoa(text);
    },
    labelmapImageMismatches: () => {
      const model = current?.model;
      if (!model || csLabelmap.attachedModel !== model) return null;
      let mismatches = 0;
      const n = model.sliceLength;
      for (let slice = 0; slice < model.dims.slices; slice++) {
        const image = csLabelmap.sliceData(slice);
        if (!image) return null;
        for (let i = 0; i < n; i++) if (image[i] !== model.labelmap[slice * n + i]) mismatches++;
      }
      return mismatches;
    },
    labelAt: (column, row, slice) => {
      const model = current?.model;
      if (!model) return -1;
      const { columns, rows, slices } = model.dims;
      if (![column, row, slice].every(Number.isInteger) || column < 0 || row < 0 || slice < 0 || column >= columns || row >= rows || slice >= slices) return -1;
      return model.labelmap[(slice * rows + row) * columns + column] ?? -1;
    },
  };

  refresh();
  return {
    element,
    model: () => current?.model ?? null,
    onModelChange: (listener) => {
      modelListeners.add(listener);
      return () => modelListeners.delete(listener);
    },
    showOnPlanes: (viewportIds) => csLabelmap.showOnPlanes(viewportIds),
    editOnPlanes: (planeElement, toolGroupId, primaryTool) => planes.attach(planeElement, toolGroupId, primaryTool),
    showIn3D: (viewportId) => surfaces3d.setViewport(viewportId),
    testHook,
  };
}

function dimsOf(detail: SeriesDetail): LabelmapDims {
  const geometry = detail.series.geometry;
  if (!geometry || geometry.columns < 1 || geometry.rows < 1) throw new Error('the series has no single image size (rows × columns) to segment on');
  return { columns: geometry.columns, rows: geometry.rows, slices: detail.slices.length };
}

/** Where the series' voxels lie in patient space, for the 3D pane's surfaces; null without orientation or positions. */
function surfaceGeometryOf(detail: SeriesDetail): SurfaceGeometry | null {
  const geometry = detail.series.geometry;
  const positions = detail.slices.map((slice) => slice.position);
  if (!geometry?.orientation || !geometry.pixelSpacing || positions.some((p) => p === null)) return null;
  const [rowSpacing, columnSpacing] = geometry.pixelSpacing;
  const o = geometry.orientation;
  return {
    slicePositions: positions as SurfaceGeometry['slicePositions'],
    rowDirection: [o[0], o[1], o[2]],
    columnDirection: [o[3], o[4], o[5]],
    columnMm: columnSpacing,
    rowMm: rowSpacing,
  };
}

function spacingOf(detail: SeriesDetail): VoxelSpacing {
  const geometry = detail.series.geometry;
  const [rowSpacing, columnSpacing] = geometry?.pixelSpacing ?? [1, 1];
  return { column: columnSpacing, row: rowSpacing, slice: geometry?.sliceSpacing ?? 1 };
}

function newSessionId(): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `seg-${Date.now().toString(36)}-${random}`;
}
