// A counting semaphore whose waiters can give up: a cancelled ask leaves the queue without
// taking a slot (its release does nothing) and the caller sees its aborted signal.
export class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];
  constructor(count: number) {
    this.#free = count;
  }
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else {
      const granted = await new Promise<boolean>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
        };
        const onAbort = () => {
          const index = this.#waiters.indexOf(wake);
          if (index >= 0) this.#waiters.splice(index, 1);
          resolve(false);
        };
        this.#waiters.push(wake);
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
      if (!granted) return () => {};
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.#free++;
    };
  }
}
