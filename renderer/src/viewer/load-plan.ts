// How a series opens. The default ('stack-first'): the 1×1 view's slice is requested
// before anyone hears of the series (the segment editor and the volume ask for every slice,
// and the browser serves requests in order), the stack's neighbours wait until it is drawn,
// and the volume fills nearest the slice in view first. 'volume-first' is the loading before
// issue #18 (the volume's requests first, in Cornerstone's default order); it stays
// selectable only so bench/viewer-load.ts measures both in one run, through a global the
// page is started with (MrLoadPlanGlobal in test-hook-types.ts).
import type { LoadPlan, MrLoadPlanGlobal } from '../test-hook-types.ts';

export type { LoadPlan };

export function loadPlan(): LoadPlan {
  return (globalThis as MrLoadPlanGlobal).__mrLoadPlan === 'volume-first' ? 'volume-first' : 'stack-first';
}
