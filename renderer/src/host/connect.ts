// One entry point for the UI: whichever shell loaded the page, the UI gets the same HostApi.
import type { HostApi } from '../../../electron/common/contract.ts';
import { BRIDGE_KEY, type PreloadBridge } from '../../../electron/common/bridge.ts';
import { createBrowserClient } from './browser-client.ts';
import { createElectronClient } from './electron-client.ts';

export async function connectHost(): Promise<HostApi> {
  const bridge = (window as unknown as Record<string, PreloadBridge | undefined>)[BRIDGE_KEY];
  return bridge ? createElectronClient(bridge) : createBrowserClient();
}
