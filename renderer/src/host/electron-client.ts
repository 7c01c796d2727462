// The contract over the Electron preload bridge (contextBridge + IPC).
import {
  HostCallError,
  type CallName,
  type CallParams,
  type CallResult,
  type EventName,
  type EventPayload,
  type HostApi,
} from '../../../electron/common/contract.ts';
import { APP_SCHEME, type PreloadBridge } from '../../../electron/common/bridge.ts';
import { FILE_BATCH_PATH } from '../../../electron/common/file-batch-format.ts';

export function createElectronClient(bridge: PreloadBridge): HostApi {
  return {
    async call<M extends CallName>(method: M, params: CallParams<M>): Promise<CallResult<M>> {
      const answer = await bridge.invoke(method, params);
      if (!answer.ok) throw new HostCallError(answer.error);
      return answer.result as CallResult<M>;
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      return bridge.subscribe((message) => {
        if (message.event === event) listener(message.payload as EventPayload<E>);
      });
    },
    fileUrl: (fileKey) => `${APP_SCHEME}://app/files/${encodeURIComponent(fileKey)}`,
    fileBatchUrl: (fileKeys) => `${APP_SCHEME}://app${FILE_BATCH_PATH}?keys=${fileKeys.map(encodeURIComponent).join(',')}`,
  };
}
