// Saving and opening segmentations: DICOM-SEG export (BINARY, LABELMAP or LABELMAP with
// RLE; a PACS node's own setting picks the format for that receiver), optionally with the
// reasoning SR (TID 1500); every export is a new series, and "save a new version" names
// the SEG it supersedes (the last one exported or imported here). SEG import from the
// current study (any SEG the index holds, with the version it replaces) or a path: the
// host restores provenance from the SR that references the SEG. And the offer to restore
// an autosave left by a crash.
import type { AutosaveSummary } from '../../../electron/common/contract-seg.ts';
import { decodeLabelmap, DEFAULT_SEG_FORMAT, SegFormatSchema, segFormatParts, type SegFormat } from '../../../electron/common/contract-seg.ts';
import type { SeriesSummary } from '../../../electron/common/dicom-model.ts';
import { el } from '../ui/dom.ts';
import type { EditorContext } from './editor-context.ts';
import { messageOf } from './error-text.ts';

export function createSegmentIoView(context: EditorContext): {
  element: HTMLElement;
  restoreElement: HTMLElement;
  render(): void;
  offerRestore(seriesKey: string, ownSessionId: string): Promise<void>;
} {
  const { host } = context;
  const exportType = el(
    'select',
    { class: 'text-input', 'data-testid': 'segment-export-type', 'aria-label': 'SEG type' },
    el('option', { value: 'binary' }, 'BINARY'),
    el('option', { value: 'labelmap' }, 'LABELMAP'),
    el('option', { value: 'labelmap-rle' }, 'LABELMAP, RLE'),
  );
  // Which receiver the SEG is for: a PACS node's setting says what it reads.
  const receiver = el('select', { class: 'text-input', 'data-testid': 'segment-export-receiver', 'aria-label': 'SEG receiver' }, el('option', { value: '' }, 'any receiver'));
  const formatOfNode = new Map<string, SegFormat>();
  let nodesListed = false;
  async function listReceivers(): Promise<void> {
    if (nodesListed) return;
    nodesListed = true;
    try {
      const { nodes } = await host.call('pacs.nodes.list', {});
      for (const node of nodes) {
        formatOfNode.set(node.name, node.segFormat ?? DEFAULT_SEG_FORMAT);
        receiver.append(el('option', { value: node.name }, node.name));
      }
    } catch {
      nodesListed = false; // the PACS service may not be up yet: try again on the next render
    }
  }
  receiver.addEventListener('change', () => {
    exportType.value = formatOfNode.get(receiver.value) ?? DEFAULT_SEG_FORMAT;
  });
  /** The SEG a new export replaces: the last one written or imported in this view. */
  let current: { sopInstanceUid: string; seriesInstanceUid: string } | null = null;
  const withSr = el('input', { type: 'checkbox', 'data-testid': 'segment-export-sr' });
  const exportButton = el('button', { class: 'button button-primary button-small', type: 'button', 'data-testid': 'segment-export' }, 'Export SEG');
  const exportResult = el('div', { class: 'seg-result', 'data-testid': 'segment-export-result' });
  let exportedOnce = false;

  exportButton.addEventListener('click', () => {
    const model = context.model();
    const payload = model?.toPayload();
    if (!model || !payload) return context.report('There is no segment to export.', 'error');
    exportButton.disabled = true;
    const format = SegFormatSchema.catch(DEFAULT_SEG_FORMAT).parse(exportType.value);
    void context
      .track(host.call('seg.export', { seriesKey: model.seriesKey, segmentation: payload, ...segFormatParts(format), withSr: withSr.checked, ...(current ? { supersedes: current } : {}) }))
      .then(async (result) => {
        exportedOnce = true;
        current = { sopInstanceUid: result.seg.sopInstanceUid, seriesInstanceUid: result.seg.seriesInstanceUid };
        exportResult.textContent = `Wrote ${result.seg.type} SEG (${result.seg.frames} frames): ${result.seg.path}${result.sr ? ` and SR: ${result.sr.path}` : ''}`;
        exportResult.dataset['path'] = result.seg.path;
        context.report(`Exported the segmentation in ${Math.round(result.elapsedMs)} ms.`);
        await context.afterExport(result.seg.path);
      })
      .catch((error: unknown) => context.report(`Export failed: ${messageOf(error)}`, 'error'))
      .finally(() => {
        exportButton.disabled = false;
        render();
      });
  });

  const importSeries = el('select', { class: 'text-input', 'data-testid': 'segment-import-series', 'aria-label': 'SEG series of this study' });
  const importPath = el('input', { class: 'text-input', placeholder: 'or a SEG file path', 'data-testid': 'segment-import-path' });
  const listButton = el('button', { class: 'button button-small', type: 'button', 'data-testid': 'segment-import-list' }, 'Find SEGs');
  const importButton = el('button', { class: 'button button-small', type: 'button', 'data-testid': 'segment-import' }, 'Import SEG');

  listButton.addEventListener('click', () => void listSegs());
  async function listSegs(): Promise<void> {
    const detail = context.detail();
    if (!detail) return;
    try {
      const { patients } = await host.call('dicom.studies', {});
      const segs: SeriesSummary[] = [];
      for (const patient of patients) for (const study of patient.studies) {
        if (study.studyInstanceUid !== detail.series.studyInstanceUid) continue;
        segs.push(...study.series.filter((s) => s.kind === 'SEG'));
      }
      // A SEG series has no slices; dicom.series lists its instance with the file key to open.
      const details = await Promise.all(segs.map((seg) => host.call('dicom.series', { seriesKey: seg.seriesKey })));
      // The version chain: which earlier SEG (by series) each one supersedes.
      const infos = await Promise.all(
        details.map((d) => {
          const instance = d.instances.find((entry) => entry.kind === 'SEG');
          return instance ? host.call('seg.info', { fileKey: instance.fileKey }).catch(() => null) : Promise.resolve(null);
        }),
      );
      const numberOfSeries = new Map(segs.map((seg) => [seg.seriesInstanceUid, seg.seriesNumber]));
      const options: HTMLOptionElement[] = [];
      segs.forEach((seg, i) => {
        const instance = details[i]!.instances.find((entry) => entry.kind === 'SEG');
        const replaced = infos[i]?.supersedes.map((p) => `#${numberOfSeries.get(p.seriesInstanceUid) ?? p.seriesInstanceUid}`) ?? [];
        const text = `${seg.seriesNumber ?? ''} ${seg.description || 'SEG'}${replaced.length ? ` (replaces ${replaced.join(', ')})` : ''}`.trim();
        options.push(el('option', { value: instance?.fileKey ?? '', disabled: !instance }, instance ? text : `${text} (no SEG instance)`));
      });
      // Replaced at once, so a choice made while the list loads is never left without options.
      importSeries.replaceChildren(...options);
      context.report(segs.length === 0 ? 'This study holds no SEG yet: type a path instead.' : `This study holds ${segs.length} SEG series.`);
    } catch (error) {
      context.report(`Could not list the study's SEGs: ${messageOf(error)}`, 'error');
    }
  }

  importButton.addEventListener('click', () => void importSeg());
  async function importSeg(): Promise<void> {
    const model = context.model();
    if (!model) return context.report('Open the SEG\'s source series first.', 'error');
    try {
      let source: { fileKey: string } | { path: string };
      if (importPath.value.trim()) source = { path: importPath.value.trim() };
      else if (importSeries.value) source = { fileKey: importSeries.value };
      else throw new Error('choose a SEG of this study ("Find SEGs") or type a path');
      if (model.dirty && model.segments.length > 0 && !confirm('Replace the segments being edited with the imported SEG? (Undo cannot bring them back; export them first to keep them.)')) return;
      const result = await context.track(host.call('seg.import', source));
      if (result.seriesKey !== model.seriesKey) throw new Error(`this SEG was drawn on another series (${result.seriesKey}): open that series, then import`);
      model.load(result.segments.map(({ originalNumber: _originalNumber, ...segment }) => segment), decodeLabelmap(result.labelmap));
      model.markSaved();
      current = { sopInstanceUid: result.info.sopInstanceUid, seriesInstanceUid: result.info.seriesInstanceUid };
      const warnings = result.warnings.length ? ` Warnings: ${result.warnings.join('; ')}` : '';
      const report = result.report ? ' with its reasoning report' : '';
      context.report(`Imported ${result.segments.length} segments from "${result.info.seriesDescription || 'SEG'}"${report}.${warnings}`);
    } catch (error) {
      context.report(`Import failed: ${messageOf(error)}`, 'error');
    }
  }

  const restoreText = el('span', { 'data-testid': 'segment-restore-text' });
  const restoreButton = el('button', { class: 'button button-primary button-small', type: 'button', 'data-testid': 'segment-restore' }, 'Restore');
  const discardButton = el('button', { class: 'button button-small', type: 'button', 'data-testid': 'segment-restore-discard' }, 'Discard');
  const restoreElement = el('div', { class: 'seg-restore', 'data-testid': 'segment-restore-banner', hidden: true }, restoreText, el('div', { class: 'button-row' }, restoreButton, discardButton));
  let offered: AutosaveSummary | null = null;

  restoreButton.addEventListener('click', () => {
    const autosave = offered;
    if (!autosave) return;
    void context
      .track(context.restore(autosave.sessionId))
      .then(() => {
        offered = null;
        restoreElement.hidden = true;
        context.report(`Restored the work saved at ${new Date(autosave.savedAt).toLocaleString()}.`);
      })
      .catch((error: unknown) => context.report(`Restore failed: ${messageOf(error)}`, 'error'));
  });
  discardButton.addEventListener('click', () => {
    const autosave = offered;
    offered = null;
    restoreElement.hidden = true;
    if (autosave) void host.call('seg.discardAutosave', { sessionId: autosave.sessionId }).catch((error: unknown) => context.report(`Could not discard the autosave: ${messageOf(error)}`, 'error'));
  });

  async function offerRestore(seriesKey: string, ownSessionId: string): Promise<void> {
    const { autosaves } = await host.call('seg.listAutosaves', {});
    const mine = autosaves.filter((a) => a.seriesKey === seriesKey && a.sessionId !== ownSessionId).sort((a, b) => b.savedAt.localeCompare(a.savedAt));
    offered = mine[0] ?? null;
    restoreElement.hidden = offered === null;
    if (offered) restoreText.textContent = `Unsaved segmentation of this series from ${new Date(offered.savedAt).toLocaleString()} (${offered.segmentCount} segments).`;
  }

  function render(): void {
    const model = context.model();
    const hasSegments = Boolean(model && model.segments.length > 0);
    exportButton.disabled = !hasSegments;
    exportButton.textContent = exportedOnce ? 'Save a new version' : 'Export SEG';
    // The reasoning SR reports segments a model computed (AI, edited AI, or from prompts); without one there is nothing to write.
    const fromModel = Boolean(model?.segments.some((s) => s.provenance.source !== 'manual'));
    void listReceivers();
    withSr.disabled = !fromModel;
    if (!fromModel) withSr.checked = false;
    withSr.title = fromModel ? 'Also write a DICOM SR with the question, reasoning, prompts and models of the AI segments' : 'Only for segments that came from a model';
    importButton.disabled = !model;
    listButton.disabled = !model;
  }

  const element = el(
    'section',
    { class: 'seg-section seg-io' },
    el('div', { class: 'seg-subtitle' }, 'DICOM-SEG'),
    el('div', { class: 'button-row' }, receiver, exportType),
    el('div', { class: 'button-row' }, el('label', { class: 'seg-check' }, withSr, ' with SR'), exportButton),
    exportResult,
    el('div', { class: 'button-row' }, importSeries, listButton),
    el('div', { class: 'button-row' }, importPath, importButton),
  );
  return { element, restoreElement, render, offerRestore };
}
