// How the CLI names a PACS: a saved node's name, dimse://CALLED_AET@host:port
// (dimse+tls:// for DICOM TLS; our calling AE from --aet), or a DICOMweb base URL.
import { DEFAULT_CALLING_AET, PacsNode } from '../../common/contract-pacs.ts';

export type NodeReference =
  | { kind: 'saved'; name: string }
  /** label: the address as typed, for messages and the outbox listing. */
  | { kind: 'inline'; node: PacsNode; label: string };

/** The name inline nodes carry (node names cannot hold ':' or '/', so no saved node is confused with one). */
export const INLINE_NODE_NAME = 'ad-hoc';

export class NodeReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeReferenceError';
  }
}

export function parseNodeReference(text: string, options: { callingAet?: string; retrieveMethod?: 'c-get' | 'c-move' } = {}): NodeReference {
  const trimmed = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (trimmed === '') throw new NodeReferenceError('empty PACS node reference');
    return { kind: 'saved', name: trimmed };
  }
  if (scheme === 'http' || scheme === 'https') {
    const parsed = PacsNode.safeParse({ type: 'dicomweb', name: INLINE_NODE_NAME, baseUrl: trimmed });
    if (!parsed.success) throw new NodeReferenceError(`"${trimmed}" is not a usable DICOMweb base URL: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    return { kind: 'inline', node: parsed.data, label: trimmed };
  }
  if (scheme === 'dimse' || scheme === 'dimse+tls') {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new NodeReferenceError(`"${trimmed}" is not of the form dimse://CALLED_AET@host:port`);
    }
    const calledAet = decodeURIComponent(url.username);
    if (!calledAet || !url.hostname || !url.port || (url.pathname !== '' && url.pathname !== '/') || url.password) {
      throw new NodeReferenceError(`"${trimmed}" is not of the form dimse://CALLED_AET@host:port`);
    }
    const parsed = PacsNode.safeParse({
      type: 'dimse',
      name: INLINE_NODE_NAME,
      calledAet,
      host: url.hostname,
      port: Number(url.port),
      callingAet: options.callingAet ?? DEFAULT_CALLING_AET,
      tls: scheme === 'dimse+tls',
      retrieveMethod: options.retrieveMethod ?? 'c-get',
    });
    if (!parsed.success) {
      throw new NodeReferenceError(`"${trimmed}": ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return { kind: 'inline', node: parsed.data, label: `${scheme}://${calledAet}@${url.host}` };
  }
  throw new NodeReferenceError(`unknown scheme "${scheme}://": use a saved node name, dimse://AET@host:port or an http(s) DICOMweb base URL`);
}
