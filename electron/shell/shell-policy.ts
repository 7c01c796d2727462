// Decisions of the Electron shell that need no Electron: kept here, apart from main.ts,
// so they are tested in plain Node (the binary is not installed where tests run).

/**
 * Origins a link from the renderer may open in the user's browser. The renderer shows
 * DICOM text (descriptions, SR content, a CRM's answer) that others wrote: without a list,
 * a crafted https link there opens whatever its author chose, outside the sandbox.
 */
export const EXTERNAL_LINK_ORIGINS: readonly string[] = ['https://github.com', 'https://huggingface.co'];

export function isAllowedExternalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // Credentials in a URL are a phishing shape (https://github.com@evil.example/ has host evil.example).
  if (parsed.username !== '' || parsed.password !== '') return false;
  return parsed.protocol === 'https:' && EXTERNAL_LINK_ORIGINS.includes(parsed.origin);
}

export type RendererGoneAction = 'none' | 'reload' | 'ask';

/** Crashes within this window that make a reload pointless: the user is told instead. */
export const CRASH_LOOP_WINDOW_MS = 60_000;
export const CRASH_LOOP_COUNT = 3;

/**
 * What to do when the renderer process is gone: a clean exit needs nothing; a crash or
 * kill reloads the page (the host, with the index, outbox and autosaves, lives on in the
 * main process); repeated crashes ask the user rather than reload in a loop.
 * @param recentCrashes times (ms) of earlier crashes, this one excluded
 */
export function rendererGoneAction(reason: string, recentCrashes: readonly number[], now: number): RendererGoneAction {
  if (reason === 'clean-exit') return 'none';
  const inWindow = recentCrashes.filter((at) => now - at < CRASH_LOOP_WINDOW_MS).length + 1;
  return inWindow >= CRASH_LOOP_COUNT ? 'ask' : 'reload';
}
