// When to autosave. An edit marks the work dirty; the save that covers it starts early
// enough to be on disk within `intervalMs` of that edit: the timer is set to
// intervalMs minus a headroom of twice the last write's duration (at least 20 ms, at
// most half the interval). Saves never overlap: edits made during a write are covered
// by the next one, due by their own first edit's deadline. No Node imports.

export interface AutosaverOptions<T> {
  intervalMs: number;
  /** The state to save, taken when a save starts (a copy, or immutable data). */
  snapshot: () => T;
  write: (state: T) => Promise<void>;
  onSaved?: (info: { durationMs: number; at: number }) => void;
  onError?: (error: unknown) => void;
  now?: () => number;
}

export class Autosaver<T> {
  readonly #options: AutosaverOptions<T>;
  readonly #now: () => number;
  #dirtySince: number | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #writing: Promise<void> | null = null;
  #lastWriteMs = 0;
  #stopped = false;

  constructor(options: AutosaverOptions<T>) {
    if (!Number.isFinite(options.intervalMs) || options.intervalMs < 50) {
      throw new RangeError(`autosave interval must be at least 50 ms, got ${options.intervalMs}`);
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Call after every edit. */
  markDirty(): void {
    if (this.#stopped) return;
    if (this.#dirtySince === null) this.#dirtySince = this.#now();
    this.#schedule();
  }

  get isDirty(): boolean {
    return this.#dirtySince !== null;
  }

  /** Saves now if there is anything unsaved (and waits for a write in progress). */
  async flush(): Promise<void> {
    if (this.#writing) await this.#writing;
    if (this.#dirtySince !== null) await this.#save();
  }

  /** Saves what is unsaved, then stops scheduling. */
  async stop(): Promise<void> {
    await this.flush();
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #headroom(): number {
    return Math.min(this.#options.intervalMs / 2, Math.max(20, 2 * this.#lastWriteMs));
  }

  #schedule(): void {
    if (this.#timer || this.#writing || this.#dirtySince === null || this.#stopped) return;
    const due = this.#dirtySince + this.#options.intervalMs - this.#headroom();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#save().catch(() => {});
    }, Math.max(0, due - this.#now()));
  }

  #save(): Promise<void> {
    if (this.#writing) return this.#writing;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#dirtySince = null;
    const started = this.#now();
    const state = this.#options.snapshot();
    this.#writing = this.#options
      .write(state)
      .then(
        () => {
          this.#lastWriteMs = this.#now() - started;
          this.#options.onSaved?.({ durationMs: this.#lastWriteMs, at: this.#now() });
        },
        (error: unknown) => {
          // The state is still unsaved: mark it dirty again (from when this save started).
          this.#dirtySince ??= started;
          this.#options.onError?.(error);
        },
      )
      .finally(() => {
        this.#writing = null;
        this.#schedule();
      });
    return this.#writing;
  }
}
