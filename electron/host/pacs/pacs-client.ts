// One face for both protocols: what the workstation asks of a PACS node, whichever
// way (DIMSE or DICOMweb) the node speaks.
import type { EchoResult, FindQuery, FindResult, PacsFailure, PacsNode } from '../../common/contract-pacs.ts';
import { describeNode, type DimseTimeouts } from './dimse-association.ts';
import { dimseEcho, dimseFind, dimseHasInstance, dimseStore, type StoreOutcome } from './dimse-scu.ts';
import { describeDicomweb, dicomwebEcho, dicomwebFind, dicomwebHasInstance, dicomwebStore } from './dicomweb.ts';
import type { InstanceInfo } from './instance-info.ts';

export interface StoreRequestItem {
  path: string;
  info: Pick<InstanceInfo, 'sopClassUid' | 'sopInstanceUid' | 'transferSyntaxUid' | 'datasetOffset'>;
}

export type InstanceIdentity = Pick<InstanceInfo, 'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid'>;

export function nodeAddress(node: PacsNode): string {
  return node.type === 'dimse' ? describeNode(node) : describeDicomweb(node);
}

export async function echoNode(node: PacsNode, timeouts?: Partial<DimseTimeouts>): Promise<EchoResult> {
  const started = performance.now();
  const { failure } = node.type === 'dimse' ? await dimseEcho(node, timeouts) : await dicomwebEcho(node);
  const elapsedMs = Math.round(performance.now() - started);
  if (failure) return { ok: false, elapsedMs, failure };
  const message =
    node.type === 'dimse'
      ? `C-ECHO to ${describeNode(node)} as ${node.callingAet} succeeded in ${elapsedMs} ms.`
      : `QIDO-RS at ${describeDicomweb(node)} answered in ${elapsedMs} ms.`;
  return { ok: true, elapsedMs, message };
}

export async function findOnNode(node: PacsNode, query: FindQuery, limit: number, signal?: AbortSignal): Promise<FindResult> {
  const result = node.type === 'dimse' ? await dimseFind(node, query, limit, signal) : await dicomwebFind(node, query, limit, signal);
  if (result.failure) return { ok: false, failure: result.failure };
  return { ok: true, studies: result.studies, series: result.series, truncated: result.truncated };
}

export function hasInstanceOnNode(node: PacsNode, instance: InstanceIdentity): Promise<{ found: boolean; failure: PacsFailure | null }> {
  return node.type === 'dimse' ? dimseHasInstance(node, instance) : dicomwebHasInstance(node, instance);
}

export function storeOnNode(node: PacsNode, items: StoreRequestItem[]): Promise<StoreOutcome[]> {
  return node.type === 'dimse' ? dimseStore(node, items) : dicomwebStore(node, items);
}
