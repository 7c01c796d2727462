// The DICOM downloads in flight, so a cancelled volume can stop its own. Cornerstone
// drops a cancelled volume's queued loads, but its pool issues them all at once (it
// allows 1000 at a time), so they already sit in the browser's queue as XHRs and would
// keep downloading the series the user left; aborting them frees the connections for
// the one they turned to.
const inFlight = new Map<XMLHttpRequest, string>();
/** Other ways downloads travel (file batches): each drops those of the given download keys, returning how many. */
const cancellers: Array<(downloadKeys: ReadonlySet<string>) => number> = [];

export function registerDownloadCanceller(cancel: (downloadKeys: ReadonlySet<string>) => number): void {
  cancellers.push(cancel);
}

/** A file's key: the image id without the frame number, since all frames share one download. */
export function downloadKeyOf(imageId: string): string {
  return imageId.replace(/[?&]frame=\d+$/, '');
}

/** Called by the image loader before each download (its beforeSend hook). */
export function trackImageRequest(xhr: XMLHttpRequest, imageId: string): void {
  inFlight.set(xhr, downloadKeyOf(imageId));
  xhr.addEventListener('loadend', () => inFlight.delete(xhr));
}

/** Aborts the downloads of these image ids still in flight; returns how many. */
export function abortImageRequests(imageIds: Iterable<string>): number {
  const keys = new Set([...imageIds].map(downloadKeyOf));
  let aborted = 0;
  for (const cancel of cancellers) aborted += cancel(keys);
  for (const [xhr, key] of inFlight) {
    if (!keys.has(key)) continue;
    inFlight.delete(xhr);
    xhr.abort();
    aborted++;
  }
  return aborted;
}
