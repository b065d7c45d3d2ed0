// One line: its calls (state, direction, numbers, time in the state, ticking), queue memberships
// and pause, agent state; with a key of scope `calls`, the buttons that drive it.
import { useState } from 'preact/hooks';
import {
  CALL_STATE,
  DIRECTION_IN,
  DIRECTION_OUT,
  duration,
  type Call,
  type LineView,
} from './model';

export interface Drive {
  makeCall(line: string, number: string): Promise<void>;
  hangUp(call: Call): Promise<void>;
  hold(call: Call): Promise<void>;
  takeBack(call: Call): Promise<void>;
  transfer(call: Call, target: string): Promise<void>;
  pause(line: string, paused: boolean): Promise<void>;
}

function direction(c: Call): string {
  if (c.direction === DIRECTION_IN) return 'in';
  if (c.direction === DIRECTION_OUT) return 'out';
  return '?';
}

/** A small inline form: one text field and a button (make call, transfer). */
function Ask(props: {
  label: string;
  action: string;
  onSubmit(value: string): Promise<void>;
  onDone(): void;
}) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="ask"
      onSubmit={(e) => {
        e.preventDefault();
        if (!value.trim() || busy) return;
        setBusy(true);
        props
          .onSubmit(value.trim())
          .then(props.onDone)
          .finally(() => setBusy(false));
      }}
    >
      <input
        aria-label={props.label}
        placeholder={props.label}
        value={value}
        autoFocus
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={busy}>
        {props.action}
      </button>
      <button type="button" class="quiet" onClick={props.onDone}>
        Cancel
      </button>
    </form>
  );
}

function CallRow(props: { call: Call; since: number; now: number; drive: Drive | null }) {
  const { call, drive } = props;
  const [asking, setAsking] = useState(false);
  const stateName = CALL_STATE[call.state] ?? String(call.state);
  return (
    <li class={`call state-${call.state}`} data-call={call.id}>
      <div class="call-line">
        <span class={`dir dir-${direction(call)}`} title={`direction: ${direction(call)}`}>
          {direction(call) === 'in' ? '↙' : direction(call) === 'out' ? '↗' : '·'}
        </span>
        <span class="numbers">
          <span class="caller">{call.callerId || '?'}</span> →{' '}
          <span class="called">{call.calledId || '?'}</span>
        </span>
        <span class="badge">{stateName}</span>
        <span class="timer">{duration(props.now - props.since)}</span>
      </div>
      {drive && (
        <div class="buttons">
          <button onClick={() => void drive.hangUp(call)}>Hang up</button>
          {call.state === 2 && <button onClick={() => void drive.hold(call)}>Hold</button>}
          {call.state === 3 && <button onClick={() => void drive.takeBack(call)}>Take back</button>}
          {call.state === 2 && !asking && (
            <button onClick={() => setAsking(true)}>Transfer…</button>
          )}
        </div>
      )}
      {drive && asking && (
        <Ask
          label="Transfer to"
          action="Transfer"
          onSubmit={(target) => drive.transfer(call, target)}
          onDone={() => setAsking(false)}
        />
      )}
    </li>
  );
}

export function LineCard(props: {
  view: LineView;
  since: Record<string, number>;
  now: number;
  drive: Drive | null;
  selected: boolean;
  onRaw(line: string): void;
}) {
  const { view, drive } = props;
  const [calling, setCalling] = useState(false);
  const busy = view.calls.length > 0;
  return (
    <section
      class={`line ${busy ? 'busy' : 'idle'} ${props.selected ? 'selected' : ''}`}
      data-line={view.line}
      aria-label={`line ${view.line}`}
    >
      <header>
        <button
          class="line-name"
          title="Show its RAW AMI packets"
          onClick={() => props.onRaw(view.line)}
        >
          {view.line}
        </button>
        <span class={`agent ${view.paused ? 'paused' : ''}`}>
          {view.agentState.code}
          {view.agentState.wrapUp ? ' · wrap-up' : ''}
          {view.paused ? ' · paused' : ''}
        </span>
        <button class="quiet raw" onClick={() => props.onRaw(view.line)}>
          RAW
        </button>
      </header>
      {view.calls.length === 0 ? (
        <p class="none">No call</p>
      ) : (
        <ul class="calls">
          {view.calls.map((c) => (
            <CallRow
              key={c.id}
              call={c}
              since={props.since[c.id] ?? props.now}
              now={props.now}
              drive={drive}
            />
          ))}
        </ul>
      )}
      {view.queues.length > 0 && (
        <ul class="queues">
          {view.queues.map((q) => (
            <li key={q.queue} class={q.paused ? 'paused' : ''}>
              {q.queue}
              {q.paused ? ` (paused${q.pausedReason ? `: ${q.pausedReason}` : ''})` : ''}
            </li>
          ))}
        </ul>
      )}
      {drive && (
        <footer class="buttons">
          {!calling && <button onClick={() => setCalling(true)}>Make call…</button>}
          {view.queues.length > 0 && (
            <button onClick={() => void drive.pause(view.line, !view.paused)}>
              {view.paused ? 'Unpause in queues' : 'Pause in queues'}
            </button>
          )}
        </footer>
      )}
      {drive && calling && (
        <Ask
          label="Number to call"
          action="Call"
          onSubmit={(n) => drive.makeCall(view.line, n)}
          onDone={() => setCalling(false)}
        />
      )}
    </section>
  );
}
