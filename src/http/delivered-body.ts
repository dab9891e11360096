// A response body that tells when the runtime has taken all of it (docs/ARCHITECTURE.md §3): the
// paid flow starts the meter's commit only then, so the commit's storage transaction never runs
// ahead of the paid content on a thread they share (one workerd thread runs everything locally).
// A FixedLengthStream keeps the exact Content-Length; its write settles once the reader
// (the runtime sending the response, or an MCP tool call reading it) has taken the bytes. Taken is
// not yet sent: the bytes still pass wrangler's proxy hops on that same thread, and a commit
// started at once held the response headers back by ~4 ms in `npm run bench` (BENCHMARKS.md), so
// `delivered` settles `graceMs` after the bytes were taken. A reader that never comes (a HEAD, a
// client gone) is waited for at most `capMs`.
// A body of at most SMALL_BODY_BYTES goes as the bytes themselves: the runtime writes it whole with
// the headers, so "taken" is the moment the response leaves the handler, and `delivered` settles
// `graceMs` after this call. The stream cost such a body ~0.2 ms more between /settle's answer and
// the response headers in `npm run bench` (BENCHMARKS.md, issue 14).
export const SMALL_BODY_BYTES = 64 * 1024;

export interface DeliveredBody {
  body: ReadableStream<Uint8Array> | ArrayBuffer | null;
  /** Settles (never rejects) `graceMs` after the body was taken, or after `capMs`. */
  delivered: Promise<void>;
}

export interface DeliveryWait {
  /** The longest wait for a reader to take the bytes. */
  capMs: number;
  /** Once taken, the time left for them to leave before `delivered` settles. */
  graceMs: number;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function deliveredBody(bytes: ArrayBuffer, wait: DeliveryWait): DeliveredBody {
  if (bytes.byteLength === 0) return { body: null, delivered: pause(wait.graceMs) };
  if (bytes.byteLength <= SMALL_BODY_BYTES) return { body: bytes, delivered: pause(wait.graceMs) };
  const { readable, writable } = new FixedLengthStream(bytes.byteLength);
  const writer = writable.getWriter();
  const written = writer.write(new Uint8Array(bytes)).then(() => writer.close());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cap = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, wait.capMs);
  });
  const afterGrace = () => pause(wait.graceMs);
  const taken = written.then(afterGrace, afterGrace);
  const delivered = Promise.race([taken, cap]).finally(() => clearTimeout(timer));
  return { body: readable, delivered };
}
