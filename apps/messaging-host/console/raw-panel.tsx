// The RAW view of one line: the AMI packets behind its calls, live (the RAW_DATA a panel in debug
// mode gets), from its own stream `?line=<line>&raw=true`; the last 200 kept.
import { useEffect, useRef, useState } from 'preact/hooks';
import { openStream } from './stream';

const KEEP = 200;

interface Packet {
  seq: number;
  at: string;
  data: Record<string, string | string[]>;
}

function text(data: Record<string, string | string[]>): string {
  return Object.entries(data)
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`]))
    .join('\n');
}

export function RawPanel(props: { line: string; apiKey: string; onClose(): void }) {
  const [packets, setPackets] = useState<Packet[]>([]);
  const [status, setStatus] = useState('connecting…');
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    setPackets([]);
    const s = openStream(
      `/api/v1/events?line=${encodeURIComponent(props.line)}&raw=true`,
      props.apiKey,
      {
        event(name, data) {
          if (name !== 'raw') return;
          const p: Packet = {
            seq: data['seq'] as number,
            at: new Date().toLocaleTimeString(),
            data: data['data'] as Record<string, string | string[]>,
          };
          setPackets((old) => [...old.slice(-(KEEP - 1)), p]);
        },
        state(open, why) {
          setStatus(open ? 'live' : `disconnected: ${why ?? ''}`);
        },
      },
    );
    return () => s.stop();
  }, [props.line, props.apiKey]);
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [packets]);
  return (
    <aside class="raw-panel" aria-label={`RAW packets of line ${props.line}`}>
      <header>
        <h2>RAW AMI packets · line {props.line}</h2>
        <span class="status">{status}</span>
        <button class="quiet" onClick={props.onClose}>
          Close
        </button>
      </header>
      {packets.length === 0 ? (
        <p class="none">Waiting for packets of line {props.line}…</p>
      ) : (
        <ol ref={list} class="packets">
          {packets.map((p) => (
            <li key={p.seq}>
              <span class="when">{p.at}</span>
              <pre>{text(p.data)}</pre>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
