// The console page: asks for an API key (kept in this browser tab only: sessionStorage), then
// shows every line from the event stream, the node, the library and the AMI connection; with a
// key of scope `calls` it drives the lines through the REST API.
import { useEffect, useMemo, useReducer, useState } from 'preact/hooks';
import { LineCard, type Drive } from './line-card';
import { EMPTY, reduce, sortLines, type Call, type Hello, type LineView } from './model';
import { RawPanel } from './raw-panel';
import { api, openStream } from './stream';

const KEY_ITEM = 'messaging-host.console.key';

function KeyForm(props: { error: string; onKey(key: string): void }) {
  const [value, setValue] = useState('');
  return (
    <form
      class="key-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) props.onKey(value.trim());
      }}
    >
      <h1>Messaging Host console</h1>
      <label>
        API key
        <input
          type="password"
          name="api-key"
          autoComplete="off"
          autoFocus
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit">Open</button>
      <p class="hint">
        A key of <code>api.keys</code> with the scope <code>read</code> shows the lines; with{' '}
        <code>calls</code> it also drives them. The key stays in this browser tab only.
      </p>
      {props.error && (
        <p class="error" role="alert">
          {props.error}
        </p>
      )}
    </form>
  );
}

interface Toast {
  id: number;
  text: string;
  bad: boolean;
}

let toastSeq = 0;

export function App() {
  const [key, setKey] = useState<string | null>(() => sessionStorage.getItem(KEY_ITEM));
  const [keyError, setKeyError] = useState('');
  const [state, dispatch] = useReducer(reduce, EMPTY);
  const [connected, setConnected] = useState<{ open: boolean; why?: string }>({ open: false });
  const [now, setNow] = useState(Date.now());
  const [rawLine, setRawLine] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [toasts, setToasts] = useState<Toast[]>([]);

  const toast = (text: string, bad = false): void => {
    const t = { id: ++toastSeq, text, bad };
    setToasts((old) => [...old.slice(-4), t]);
    setTimeout(() => setToasts((old) => old.filter((x) => x !== t)), bad ? 9000 : 4000);
  };

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  useEffect(() => {
    if (!key) return;
    dispatch({ type: 'reset' });
    const s = openStream('/api/v1/events', key, {
      event(name, data) {
        const at = Date.now();
        if (name === 'hello') dispatch({ type: 'hello', hello: data as unknown as Hello, now: at });
        else if (name === 'line')
          dispatch({ type: 'line', line: data as unknown as LineView, now: at });
        else if (name === 'call')
          dispatch({
            type: 'call',
            line: data['line'] as string,
            call: data['call'] as Call,
            now: at,
          });
        else if (name === 'status')
          dispatch({
            type: 'status',
            ready: data['ready'] as boolean,
            ...(typeof data['reason'] === 'string' ? { reason: data['reason'] } : {}),
            ...(data['ami'] ? { ami: data['ami'] as Hello['ami'] } : {}),
          });
        else if (name === 'error')
          toast(`line ${String(data['line'])}: ${String(data['message'])}`, true);
      },
      state(open, why, keyRefused) {
        setConnected({ open, ...(why ? { why } : {}) });
        if (keyRefused) {
          sessionStorage.removeItem(KEY_ITEM);
          setKeyError(why ?? 'the key was refused');
          setKey(null);
        }
      },
    });
    return () => s.stop();
  }, [key]);

  const drive: Drive | null = useMemo(() => {
    if (!key || !state.hello?.key.scopes.includes('calls')) return null;
    const run = async (what: string, f: () => Promise<unknown>): Promise<void> => {
      try {
        await f();
        toast(what);
      } catch (err) {
        toast(`${what}: ${err instanceof Error ? err.message : String(err)}`, true);
      }
    };
    const id = (c: Call): string => encodeURIComponent(c.id);
    return {
      makeCall: (line, number) =>
        run(`call ${number} from ${line}`, () =>
          api(key, 'POST', '/api/v1/calls', { line, number }),
        ),
      hangUp: (c) => run('hang up', () => api(key, 'DELETE', `/api/v1/calls/${id(c)}`)),
      hold: (c) => run('hold', () => api(key, 'POST', `/api/v1/calls/${id(c)}/hold`)),
      takeBack: (c) => run('take back', () => api(key, 'POST', `/api/v1/calls/${id(c)}/unhold`)),
      transfer: (c, target) =>
        run(`transfer to ${target}`, () =>
          api(key, 'POST', `/api/v1/calls/${id(c)}/transfer`, { target, mode: 'blind' }),
        ),
      pause: (line, paused) =>
        run(paused ? `pause ${line} in its queues` : `unpause ${line}`, () =>
          api(key, 'PUT', `/api/v1/lines/${encodeURIComponent(line)}/queue-pause`, { paused }),
        ),
    };
  }, [key, state.hello]);

  if (!key) {
    return (
      <KeyForm
        error={keyError}
        onKey={(k) => {
          sessionStorage.setItem(KEY_ITEM, k);
          setKeyError('');
          setKey(k);
        }}
      />
    );
  }

  const hello = state.hello;
  const lines = sortLines(Object.keys(state.lines)).filter((l) => l.includes(filter.trim()));
  const ami = state.ami;
  return (
    <div class="console">
      <header class="top">
        <h1>Messaging Host</h1>
        <span class={`dot ${connected.open ? 'ok' : 'bad'}`} title="event stream" />
        <span>
          {connected.open ? 'live' : `reconnecting${connected.why ? `: ${connected.why}` : ''}`}
        </span>
        {hello && (
          <>
            <span class="item">
              node <b>{hello.node}</b>
            </span>
            <span class="item">
              library <b>{hello.library}</b> <span class={`dot ${state.ready ? 'ok' : 'bad'}`} />
              {state.ready ? 'ready' : `not ready${state.reason ? `: ${state.reason}` : ''}`}
            </span>
            {ami && (
              <span class="item" data-ami={ami.state}>
                AMI <b>{ami.state}</b>
                {ami.serverVersion ? ` (${ami.serverVersion})` : ''}
                {ami.reconnects > 0 ? ` · ${ami.reconnects} reconnects` : ''}
                {ami.reason && !ami.connected ? ` · ${ami.reason}` : ''}
              </span>
            )}
            <span class="item">
              key <b>{hello.key.name}</b> ({hello.key.scopes.join(', ')})
            </span>
          </>
        )}
        <input
          class="filter"
          placeholder="Filter lines"
          aria-label="Filter lines"
          value={filter}
          onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
        />
        <button
          class="quiet"
          onClick={() => {
            sessionStorage.removeItem(KEY_ITEM);
            setKey(null);
          }}
        >
          Forget key
        </button>
      </header>
      {hello?.allLines === 'discovered' && (
        <p class="notice">
          The library does not stream every line: lines appear when they have calls (and those in{' '}
          <code>console.lines</code>).
        </p>
      )}
      <div class="body">
        <main class="lines">
          {lines.length === 0 ? (
            <p class="none">
              {hello ? 'No line has a call yet. Lines appear as calls come.' : 'Connecting…'}
            </p>
          ) : (
            lines.map((l) => (
              <LineCard
                key={l}
                view={state.lines[l]!}
                since={state.since}
                now={now}
                drive={drive}
                selected={rawLine === l}
                onRaw={setRawLine}
              />
            ))
          )}
        </main>
        {rawLine && <RawPanel line={rawLine} apiKey={key} onClose={() => setRawLine(null)} />}
      </div>
      <div class="toasts" aria-live="polite">
        {toasts.map((t) => (
          <p key={t.id} class={t.bad ? 'bad' : ''}>
            {t.text}
          </p>
        ))}
      </div>
    </div>
  );
}
