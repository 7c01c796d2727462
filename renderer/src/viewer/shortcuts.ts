// The help panel that lists the keyboard shortcuts (shortcut-list.ts), and which key
// presses are typing rather than shortcuts.
import { el } from '../ui/dom.ts';
import { shortcutList } from './shortcut-list.ts';

export function createHelpPanel(): { element: HTMLElement; toggle(): void } {
  const rows = shortcutList().map((entry) => el('tr', {}, el('th', {}, entry.keys), el('td', {}, entry.action)));
  const close = el('button', { type: 'button', class: 'button button-small' }, 'Close');
  const element = el(
    'div',
    { class: 'help-panel', 'data-testid': 'help-panel', hidden: true, role: 'dialog', 'aria-label': 'Keyboard shortcuts' },
    el('h2', {}, 'Keyboard shortcuts'),
    el('table', {}, el('tbody', {}, ...rows)),
    close,
  );
  close.addEventListener('click', () => (element.hidden = true));
  return { element, toggle: () => (element.hidden = !element.hidden) };
}

/** Keys typed into fields and buttons' own keys are not shortcuts. */
export function isTypingTarget(target: EventTarget | null): boolean {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || (target instanceof HTMLElement && target.isContentEditable);
}
