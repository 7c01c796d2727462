// Installs window.__mrTest (see test-hook-types.ts). It changes nothing in the app,
// so it ships in every build.
import { probeDecodePaths } from './cornerstone/batched-file-loader.ts';
import type { StackViewer } from './cornerstone/stack-viewer.ts';
import type { AppPhase, AskTestState, MrTestGlobal, SegmentationTestHook } from './test-hook-types.ts';
import type { VolumeViewer } from './viewer/volume-viewer.ts';

export function installTestHook(viewer: StackViewer, phase: () => AppPhase, volume?: VolumeViewer): void {
  (window as MrTestGlobal).__mrTest = {
    appPhase: phase,
    viewportState: () => viewer.state,
    imagePointToPage: (column, row) => viewer.imagePointToPage(column, row),
    stackMeasurements: () => viewer.measurements(),
    decodePaths: (fileKey, asked) => probeDecodePaths(fileKey, asked),
    ...(volume
      ? {
          volume: {
            state: () => volume.state,
            worldToPage: (pane, world) => volume.worldToPage(pane, world),
            paneFocalPoint: (pane) => volume.paneFocalPoint(pane),
            measurements: () => volume.measurements(),
            paneSliceIndex: (pane) => volume.sliceOf(pane)?.index ?? null,
            cachedVolumeIds: () => volume.cachedVolumeIds(),
          },
        }
      : {}),
  };
}

/** Adds the segment editor to window.__mrTest (after installTestHook). */
export function installSegmentationTestHook(hook: SegmentationTestHook): void {
  const global = window as MrTestGlobal;
  if (!global.__mrTest) throw new Error('installTestHook must run before installSegmentationTestHook');
  global.__mrTest.segmentation = hook;
}

/** Adds __mrTest.ask (the ask panel) to the hook installTestHook made. */
export function installAskTestHook(state: () => AskTestState): void {
  const global = window as MrTestGlobal;
  if (!global.__mrTest) throw new Error('installTestHook must run before installAskTestHook');
  global.__mrTest.ask = { state };
}
