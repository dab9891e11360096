// The one timeout race of the tenant runtimes (loader-runtime.ts, dispatch-runtime.ts): a
// function tenant's I/O waits (a slow upstream, a long sleep) end at its maxDuration; CPU-bound
// overruns end in the instrumented budget instead (function/instrument.ts).

/** Resolves as `work` does, or rejects with `onTimeout()` after `ms`; the timer never outlives the race. */
export async function raceTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => unknown): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
