// The contract over HTTP and a WebSocket (browser mode). The session cookie set by
// the launch URL authenticates every request, workers included, so no secret lives
// in page script.
import {
  HostCallError,
  type CallName,
  type CallParams,
  type CallResponse,
  type CallResult,
  type EventName,
  type EventPayload,
  type HostApi,
  type HostEvent,
} from '../../../electron/common/contract.ts';
import { FILE_BATCH_PATH } from '../../../electron/common/file-batch-format.ts';

type Listener = (payload: unknown) => void;

export function createBrowserClient(origin: string = window.location.origin): HostApi {
  const listeners = new Map<EventName, Set<Listener>>();
  let retryDelay = 250;

  function connectEvents(): void {
    const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/api/events`);
    ws.onopen = () => {
      retryDelay = 250;
    };
    ws.onmessage = (message) => {
      const event = JSON.parse(String(message.data)) as HostEvent;
      for (const listener of listeners.get(event.event) ?? []) listener(event.payload);
    };
    ws.onclose = () => {
      // The host outlives page reloads but not restarts; keep trying quietly, backing off.
      setTimeout(connectEvents, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 5000);
    };
  }
  connectEvents();

  return {
    async call<M extends CallName>(method: M, params: CallParams<M>): Promise<CallResult<M>> {
      const response = await fetch(`${origin}/api/call/${encodeURIComponent(method)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(params),
      });
      if (response.status === 401) {
        throw new HostCallError({ code: 'forbidden-path', message: 'The session has expired: open the URL printed by `npm start` again.' });
      }
      const answer = (await response.json()) as CallResponse<M>;
      if (!answer.ok) throw new HostCallError(answer.error);
      return answer.result;
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const wrapped = listener as Listener;
      set.add(wrapped);
      return () => set.delete(wrapped);
    },
    fileUrl: (fileKey) => `${origin}/files/${encodeURIComponent(fileKey)}`,
    fileBatchUrl: (fileKeys) => `${origin}${FILE_BATCH_PATH}?keys=${fileKeys.map(encodeURIComponent).join(',')}`,
  };
}
