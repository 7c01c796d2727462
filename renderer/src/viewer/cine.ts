// Cine: plays the slices of the active view in a loop at a chosen rate, with
// Cornerstone's playClip (stack and volume viewports alike).
import { utilities as toolUtilities } from '@cornerstonejs/tools';
import { el } from '../ui/dom.ts';

export const CINE_FPS = { min: 1, max: 60, initial: 10 } as const;

export type CineControls = {
  element: HTMLElement;
  readonly playing: boolean;
  toggle(): void;
  stop(): void;
  changeFps(delta: number): void;
};

/** `target` names the element of the view to play (null when nothing is shown). */
export function createCineControls(target: () => HTMLDivElement | null, onError: (message: string) => void): CineControls {
  const button = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'cine-play', 'aria-pressed': 'false', title: 'Play / pause the slices (K)' }, '▶ Cine');
  const fpsInput = el('input', {
    type: 'number',
    class: 'cine-fps',
    'data-testid': 'cine-fps',
    min: CINE_FPS.min,
    max: CINE_FPS.max,
    step: 1,
    value: CINE_FPS.initial,
    title: 'Frames per second ([ and ] change it)',
    'aria-label': 'Cine frames per second',
  });
  const element = el('div', { class: 'toolbar-group cine-controls', 'aria-label': 'Cine' }, button, fpsInput, el('span', { class: 'cine-unit' }, 'fps'));
  let playingIn: HTMLDivElement | null = null;

  function fps(): number {
    const value = Math.round(Number(fpsInput.value));
    return Number.isFinite(value) ? Math.min(CINE_FPS.max, Math.max(CINE_FPS.min, value)) : CINE_FPS.initial;
  }

  function show(): void {
    button.setAttribute('aria-pressed', String(playingIn !== null));
    button.classList.toggle('is-active', playingIn !== null);
    button.textContent = playingIn ? '❚❚ Pause' : '▶ Cine';
  }

  function play(): void {
    const element = target();
    if (!element) return;
    try {
      toolUtilities.cine.playClip(element, { framesPerSecond: fps(), loop: true, dynamicCineEnabled: false });
      playingIn = element;
    } catch (error) {
      onError(`Cine could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
    show();
  }

  function stop(): void {
    if (playingIn) toolUtilities.cine.stopClip(playingIn);
    playingIn = null;
    show();
  }

  function changeFps(delta: number): void {
    fpsInput.value = String(Math.min(CINE_FPS.max, Math.max(CINE_FPS.min, fps() + delta)));
    fpsInput.dispatchEvent(new Event('change'));
  }

  button.addEventListener('click', () => (playingIn ? stop() : play()));
  // A new rate takes effect at once.
  fpsInput.addEventListener('change', () => {
    fpsInput.value = String(fps());
    if (playingIn) play();
  });

  return {
    element,
    get playing() {
      return playingIn !== null;
    },
    toggle: () => (playingIn ? stop() : play()),
    stop,
    changeFps,
  };
}
