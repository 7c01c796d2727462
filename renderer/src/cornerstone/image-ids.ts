// Image ids for the dicom-image-loader's wadouri scheme. The loader's parseImageId
// takes everything from "frame=" on as the 1-based frame number and drops it and the
// separator before it from the URL, so the file URL itself stays the cache key: all
// frames of a multi-frame file share one download.
import type { HostApi } from '../../../electron/common/contract.ts';
import type { SliceRef } from '../../../electron/common/dicom-model.ts';

export function imageIdForSlice(host: HostApi, slice: Pick<SliceRef, 'fileKey' | 'frame'>): string {
  const url = host.fileUrl(slice.fileKey);
  if (slice.frame === null) return `wadouri:${url}`;
  const separator = url.includes('?') ? '&' : '?';
  return `wadouri:${url}${separator}frame=${slice.frame}`;
}

export function imageIdsForSlices(host: HostApi, slices: readonly SliceRef[]): string[] {
  return slices.map((slice) => imageIdForSlice(host, slice));
}
