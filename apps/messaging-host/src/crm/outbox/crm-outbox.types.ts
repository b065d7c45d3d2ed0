/**
 * What the outbox keeps of one call: its changes not yet saved in the CRM, in order, and what is
 * known of its record (databaseUId). The layout stored by both backends (file, Redis), and its check.
 */
import type { Call } from '@app/messaging';

/** One change of a call, to be sent as one UpdateCall. */
export interface OutboxChange {
  /** Order of recording on the node that recorded it. */
  seq: number;
  /** When it was recorded (epoch ms). */
  at: number;
  /** The call event that caused it (5, 6, 7, ...). */
  eventType: number;
  /** The call as the library reported it (without databaseUId and userContactUId). */
  call: Call;
}

/** A call the outbox is in charge of. */
export interface StoredCrmCall {
  /** Layout version. */
  v: 1;
  /** The call id (stable for the whole call, the same on every node). */
  id: string;
  line: string;
  /** The CRM base URL chosen when the call started ('' when crm.serviceUrl is used). */
  base: string;
  /** The operator's contact (sessionServiceParams.UserContactUId), when it is a GUID. */
  contact?: string;
  /** The CRM record's id, once the first save answered it. */
  databaseUId?: string;
  /** Event 15 (CALL_SAVED_IN_DB) was sent for it. */
  announced: boolean;
  /** Its end (state NONE) was recorded. */
  ended: boolean;
  /** Changes not saved yet, oldest first. */
  changes: OutboxChange[];
  /** The newest call state known (to end a call that vanished during a restart, and for REST). */
  last?: Call;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks a stored call read back from a backend. Throws an Error naming what is wrong (the caller
 * skips that record with a log line and keeps the rest).
 */
export function parseStoredCall(value: unknown): StoredCrmCall {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('not an object');
  }
  const o = value as Record<string, unknown>;
  if (o['v'] !== 1) throw new Error(`unknown layout version ${JSON.stringify(o['v'])}`);
  const str = (k: string, optional = false): string | undefined => {
    const v = o[k];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string') throw new Error(`"${k}" must be a string`);
    return v;
  };
  const id = str('id')!;
  if (id === '') throw new Error('"id" is empty');
  const databaseUId = str('databaseUId', true);
  if (databaseUId !== undefined && !GUID.test(databaseUId)) {
    throw new Error('"databaseUId" is not a GUID');
  }
  const contact = str('contact', true);
  if (typeof o['announced'] !== 'boolean' || typeof o['ended'] !== 'boolean') {
    throw new Error('"announced" and "ended" must be booleans');
  }
  // Lua's cjson writes an empty array as {}: accept it as none.
  const raw = o['changes'];
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === 'object' && raw !== null && Object.keys(raw).length === 0
      ? []
      : undefined;
  if (!list) throw new Error('"changes" must be an array');
  const changes = list.map((c, i) => parseChange(c, i, id));
  const last =
    o['last'] === undefined
      ? undefined
      : parseChange({ seq: 0, at: 0, eventType: 0, call: o['last'] }, 0, id).call;
  return {
    v: 1,
    id,
    line: str('line')!,
    base: str('base')!,
    ...(contact !== undefined ? { contact } : {}),
    ...(databaseUId !== undefined ? { databaseUId } : {}),
    announced: o['announced'],
    ended: o['ended'],
    changes,
    ...(last ? { last } : {}),
  };
}

function parseChange(value: unknown, i: number, id: string): OutboxChange {
  const where = `changes[${i}]`;
  if (typeof value !== 'object' || value === null) throw new Error(`${where} is not an object`);
  const c = value as Record<string, unknown>;
  for (const k of ['seq', 'at', 'eventType']) {
    if (typeof c[k] !== 'number' || !Number.isFinite(c[k])) {
      throw new Error(`${where}.${k} must be a number`);
    }
  }
  const call = c['call'] as Record<string, unknown> | null;
  if (typeof call !== 'object' || call === null || call['id'] !== id) {
    throw new Error(`${where}.call must be the call ${id}`);
  }
  if (typeof call['state'] !== 'number' || typeof call['deviceId'] !== 'string') {
    throw new Error(`${where}.call has no state or deviceId`);
  }
  return {
    seq: c['seq'] as number,
    at: c['at'] as number,
    eventType: c['eventType'] as number,
    call: call as unknown as Call,
  };
}
