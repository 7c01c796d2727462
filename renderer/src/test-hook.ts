// Installs window.__mrTest (see test-hook-types.ts). It changes nothing in the app,
// so it ships in every build.
import type { StackViewer } from './cornerstone/stack-viewer.ts';
import type { AppPhase, MrTestGlobal } from './test-hook-types.ts';
import type { VolumeViewer } from './viewer/volume-viewer.ts';

export function installTestHook(viewer: StackViewer, phase: () => AppPhase, volume?: VolumeViewer): void {
  (window as MrTestGlobal).__mrTest = {
    appPhase: phase,
    viewportState: () => viewer.state,
    imagePointToPage: (column, row) => viewer.imagePointToPage(column, row),
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
