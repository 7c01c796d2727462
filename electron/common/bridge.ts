// What the Electron preload exposes on window.medreasoner. Deliberately tiny: a
// generic invoke and an event subscription. The host validates every invoke, so
// the bridge carries no logic an attacker could bend.
import type { HostErrorShape, HostEvent } from './contract.ts';

export const BRIDGE_KEY = 'medreasoner';
export const IPC_CALL = 'host:call';
export const IPC_EVENT = 'host:event';
/** The privileged scheme that serves the renderer (app) and DICOM bytes (files). */
export const APP_SCHEME = 'medreasoner';

export interface PreloadBridge {
  invoke(method: string, params: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: HostErrorShape }>;
  subscribe(listener: (event: HostEvent) => void): () => void;
}
