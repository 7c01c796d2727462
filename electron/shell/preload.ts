// Sandboxed preload: exposes the bridge and nothing else. No Node APIs reach the page.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { BRIDGE_KEY, IPC_CALL, IPC_EVENT, type PreloadBridge } from '../common/bridge.ts';
import type { HostEvent } from '../common/contract.ts';

const bridge: PreloadBridge = {
  invoke: (method, params) => ipcRenderer.invoke(IPC_CALL, method, params),
  subscribe(listener) {
    const handler = (_event: IpcRendererEvent, message: HostEvent) => listener(message);
    ipcRenderer.on(IPC_EVENT, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, handler);
    };
  },
};

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
