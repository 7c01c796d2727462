// dicom.series answers are asked for twice (thumbnail, then viewer): keep them until
// the host says the series changed.
import type { HostApi } from '../../electron/common/contract.ts';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';

export class SeriesDetails {
  private readonly host: HostApi;
  private readonly cache = new Map<string, Promise<SeriesDetail>>();

  constructor(host: HostApi) {
    this.host = host;
    host.on('dicom.studiesChanged', ({ seriesKeys }) => {
      for (const key of seriesKeys) this.cache.delete(key);
    });
  }

  get(seriesKey: string): Promise<SeriesDetail> {
    let detail = this.cache.get(seriesKey);
    if (!detail) {
      detail = this.host.call('dicom.series', { seriesKey });
      // A failed answer must not stick: the next click asks again.
      detail.catch(() => this.cache.delete(seriesKey));
      this.cache.set(seriesKey, detail);
    }
    return detail;
  }
}
