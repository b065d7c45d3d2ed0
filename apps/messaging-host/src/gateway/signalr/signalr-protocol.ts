/**
 * The SignalR JSON hub protocol, server side (dotnet/aspnetcore specs/HubProtocol.md):
 * records of JSON text, each ended by the record separator 0x1e; a handshake first.
 */

export const RECORD_SEPARATOR = '\x1e';

/** Message types of the hub protocol. */
export enum HubMessageType {
  Invocation = 1,
  StreamItem = 2,
  Completion = 3,
  StreamInvocation = 4,
  CancelInvocation = 5,
  Ping = 6,
  Close = 7,
  Ack = 8,
  Sequence = 9,
}

/** The handshake answer: accepted. */
export const HANDSHAKE_OK = `{}${RECORD_SEPARATOR}`;
/** A ping record (server keep-alive). */
export const PING_RECORD = `{"type":${HubMessageType.Ping}}${RECORD_SEPARATOR}`;

export class SignalRProtocolError extends Error {
  override name = 'SignalRProtocolError';
}

/**
 * Splits frame text into records. Every record must end with 0x1e (a WebSocket frame holds
 * whole records only); an unterminated tail is a protocol error.
 */
export function splitRecords(text: string): string[] {
  if (text.length === 0) return [];
  if (!text.endsWith(RECORD_SEPARATOR)) {
    throw new SignalRProtocolError('a record does not end with the record separator 0x1e');
  }
  const parts = text.split(RECORD_SEPARATOR);
  parts.pop();
  return parts;
}

/** Checks a handshake request; returns an error text for the handshake answer, or null when accepted. */
export function checkHandshake(record: string): string | null {
  let obj: unknown;
  try {
    obj = JSON.parse(record);
  } catch {
    return 'the handshake request is not valid JSON';
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return 'the handshake request must be a JSON object';
  }
  const { protocol, version } = obj as Record<string, unknown>;
  if (typeof protocol !== 'string') return 'the handshake request has no "protocol"';
  if (protocol !== 'json') {
    return `the protocol '${protocol}' is not supported (only 'json')`;
  }
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    return 'the handshake request has no integer "version"';
  }
  if (version !== 1) {
    return `the 'json' protocol version ${version} is not supported (only 1)`;
  }
  return null;
}

/** The handshake answer for an error. */
export function handshakeError(message: string): string {
  return JSON.stringify({ error: message }) + RECORD_SEPARATOR;
}

/** A hub message from a client, as far as this server uses it. */
export type ClientHubMessage =
  | { type: HubMessageType.Invocation; invocationId?: string; target: string; arguments: unknown[] }
  | { type: HubMessageType.StreamInvocation; invocationId: string; target: string }
  | { type: HubMessageType.Ping }
  | { type: HubMessageType.Close; error?: string }
  | { type: HubMessageType.CancelInvocation; invocationId: string }
  | { type: 'other'; messageType: number };

/** Parses one record of a client (after the handshake). Throws SignalRProtocolError naming the fault. */
export function parseHubMessage(record: string): ClientHubMessage {
  let obj: unknown;
  try {
    obj = JSON.parse(record);
  } catch {
    throw new SignalRProtocolError('a hub message is not valid JSON');
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new SignalRProtocolError('a hub message must be a JSON object');
  }
  const m = obj as Record<string, unknown>;
  const type = m['type'];
  if (typeof type !== 'number' || !Number.isInteger(type)) {
    throw new SignalRProtocolError('a hub message has no integer "type"');
  }
  const invocationId = m['invocationId'];
  if (invocationId !== undefined && typeof invocationId !== 'string') {
    throw new SignalRProtocolError('"invocationId" must be a string');
  }
  switch (type) {
    case HubMessageType.Invocation: {
      const target = m['target'];
      const args = m['arguments'];
      if (typeof target !== 'string') {
        throw new SignalRProtocolError('an invocation has no "target" string');
      }
      if (!Array.isArray(args)) {
        throw new SignalRProtocolError('an invocation has no "arguments" array');
      }
      return { type, invocationId, target, arguments: args };
    }
    case HubMessageType.StreamInvocation: {
      const target = m['target'];
      if (typeof target !== 'string' || invocationId === undefined) {
        throw new SignalRProtocolError('a stream invocation needs "invocationId" and "target"');
      }
      return { type, invocationId, target };
    }
    case HubMessageType.CancelInvocation:
      if (invocationId === undefined) {
        throw new SignalRProtocolError('a cancel invocation needs "invocationId"');
      }
      return { type, invocationId };
    case HubMessageType.Ping:
      return { type };
    case HubMessageType.Close:
      return { type, error: typeof m['error'] === 'string' ? m['error'] : undefined };
    default:
      return { type: 'other', messageType: type };
  }
}

/** A completion with a result (null for a void method). */
export function completionResult(invocationId: string, result: unknown): string {
  return (
    JSON.stringify({ type: HubMessageType.Completion, invocationId, result }) + RECORD_SEPARATOR
  );
}

/** A completion with an error. */
export function completionError(invocationId: string, error: string): string {
  return (
    JSON.stringify({ type: HubMessageType.Completion, invocationId, error }) + RECORD_SEPARATOR
  );
}

/** A non-blocking invocation of a client method whose single argument is `jsonText` (a string). */
export function invocationRecord(target: string, jsonText: string): string {
  return `{"type":1,"target":${JSON.stringify(target)},"arguments":[${JSON.stringify(jsonText)}]}${RECORD_SEPARATOR}`;
}

/** A close message; allowReconnect tells newer clients to reconnect automatically. */
export function closeRecord(error?: string, allowReconnect?: boolean): string {
  const msg: Record<string, unknown> = { type: HubMessageType.Close };
  if (error !== undefined) msg['error'] = error;
  if (allowReconnect !== undefined) msg['allowReconnect'] = allowReconnect;
  return JSON.stringify(msg) + RECORD_SEPARATOR;
}

/** Whether a first frame looks like a SignalR handshake (a JSON record ended by 0x1e with "protocol"). */
export function looksLikeHandshake(text: string): boolean {
  return text.endsWith(RECORD_SEPARATOR) && /^\s*\{[^]*"protocol"\s*:/.test(text);
}
