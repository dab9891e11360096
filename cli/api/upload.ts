// Multipart bodies sent as a stream, so a long upload (a 10 MB CSV) can report progress: the
// form is serialized once (the same bytes fetch would send) and handed out in 256 KiB chunks.
const CHUNK_BYTES = 256 * 1024;

export async function streamedBody(
  form: FormData,
  onProgress?: (sent: number, total: number) => void,
): Promise<{ body: ReadableStream<Uint8Array>; contentType: string; bytes: number }> {
  const encoded = new Response(form);
  const contentType = encoded.headers.get("content-type") ?? "multipart/form-data";
  const bytes = new Uint8Array(await encoded.arrayBuffer());
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      const end = Math.min(bytes.length, offset + CHUNK_BYTES);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
      onProgress?.(offset, bytes.length);
    },
  });
  return { body, contentType, bytes: bytes.length };
}

/**
 * Progress lines for an upload: on a terminal one line rewritten in place, otherwise a line at
 * each quarter. Small bodies (under 1 MiB) print nothing: they are sent in a moment.
 */
export function uploadProgress(write: (text: string) => void, tty: boolean): (sent: number, total: number) => void {
  let lastQuarter = 0;
  return (sent, total) => {
    if (total < 1024 * 1024) return;
    const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
    const pct = Math.floor((sent / total) * 100);
    if (tty) {
      write(`\r  uploading ${mib(sent)} / ${mib(total)} MiB (${pct}%)${sent === total ? "\n" : ""}`);
      return;
    }
    const quarter = Math.floor((sent / total) * 4);
    if (quarter > lastQuarter) {
      lastQuarter = quarter;
      write(`  uploaded ${mib(sent)} / ${mib(total)} MiB (${pct}%)\n`);
    }
  };
}
