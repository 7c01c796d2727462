// The last message for the user at the bottom of the sidebar: errors stay until the
// next message, so a failure is never only in the developer console.
import { el } from './dom.ts';

export function createStatusLine(): { element: HTMLElement; error(message: string): void; info(message: string): void } {
  const element = el('div', { class: 'status-line', role: 'status', 'aria-live': 'polite', 'data-testid': 'status-line' });
  function show(kind: 'error' | 'info', message: string): void {
    element.textContent = message;
    element.dataset['kind'] = kind;
    if (kind === 'error') console.error(message);
  }
  return { element, error: (message) => show('error', message), info: (message) => show('info', message) };
}
