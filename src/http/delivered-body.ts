// A response body that tells when the runtime has taken all of it (docs/ARCHITECTURE.md §3): the
// paid flow starts the meter's commit only then, so the commit's storage transaction never runs
// ahead of the paid content on a thread they share (one workerd thread runs everything locally).
// A FixedLengthStream keeps the exact Content-Length; its write settles once the reader
// (the runtime sending the response, or an MCP tool call reading it) has taken the bytes. A
// reader that never comes (a HEAD, a client gone) is waited for at most `capMs`.
export interface DeliveredBody {
  body: ReadableStream<Uint8Array> | null;
  /** Settles (never rejects) when the body was taken, or after `capMs`. */
  delivered: Promise<void>;
}

export function deliveredBody(bytes: ArrayBuffer, capMs: number): DeliveredBody {
  if (bytes.byteLength === 0) return { body: null, delivered: Promise.resolve() };
  const { readable, writable } = new FixedLengthStream(bytes.byteLength);
  const writer = writable.getWriter();
  const written = writer.write(new Uint8Array(bytes)).then(() => writer.close());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cap = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, capMs);
  });
  const taken = written.then(
    () => undefined,
    () => undefined,
  );
  const delivered = Promise.race([taken, cap]).finally(() => clearTimeout(timer));
  return { body: readable, delivered };
}
