// The console's connection to the service: the event stream read with fetch() (EventSource cannot
// send the API key), reconnecting with a growing delay; and the REST calls of the drive buttons.

export interface StreamHandlers {
  event(name: string, data: Record<string, unknown>): void;
  /** Connected (true) or lost (false, with why and whether the key was refused). */
  state(open: boolean, why?: string, keyRefused?: boolean): void;
}

/** Reads one SSE body, calling `onFrame` per frame; resolves when the body ends. */
async function readFrames(
  body: ReadableStream<Uint8Array>,
  onFrame: (name: string, data: string) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let name = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') name = v;
        else if (field === 'data') data.push(v);
      }
      if (data.length) onFrame(name, data.join('\n'));
    }
  }
}

/**
 * Keeps a stream of `path` open until `stop()`: reconnects after 1 s, then up to 15 s, and gives up
 * only when the key is refused (401/403).
 */
export function openStream(path: string, key: string, h: StreamHandlers): { stop(): void } {
  let stopped = false;
  let abort: AbortController | undefined;
  let delay = 1000;
  const run = async (): Promise<void> => {
    while (!stopped) {
      abort = new AbortController();
      try {
        const res = await fetch(path, {
          headers: { Authorization: `Bearer ${key}`, Accept: 'text/event-stream' },
          signal: abort.signal,
          cache: 'no-store',
        });
        if (res.status === 401 || res.status === 403) {
          const body = (await res.json().catch(() => ({}))) as { message?: string };
          h.state(false, body.message ?? `refused (${res.status})`, true);
          return;
        }
        if (!res.ok || !res.body) {
          const body = (await res.json().catch(() => ({}))) as { message?: string };
          throw new Error(body.message ?? `HTTP ${res.status}`);
        }
        delay = 1000;
        h.state(true);
        await readFrames(res.body, (name, data) => {
          try {
            h.event(name, JSON.parse(data) as Record<string, unknown>);
          } catch {
            // a frame that is not JSON: not from this service; skip it
          }
        });
        if (!stopped) h.state(false, 'the stream ended');
      } catch (err) {
        if (stopped) return;
        h.state(false, err instanceof Error ? err.message : String(err));
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  };
  void run();
  return {
    stop() {
      stopped = true;
      abort?.abort();
    },
  };
}

/** A REST call with the key; resolves with the JSON answer, rejects with the API's message. */
export async function api(
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const res = await fetch(path, {
    method,
    headers: {
      Authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!res.ok) {
    const detail = typeof json['detail'] === 'string' ? `: ${json['detail']}` : '';
    throw new Error(`${String(json['message'] ?? `HTTP ${res.status}`)}${detail}`);
  }
  return json;
}
