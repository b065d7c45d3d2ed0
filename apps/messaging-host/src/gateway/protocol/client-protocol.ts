import { MsgErrorType, MsgEventType, type Call } from '@app/messaging';
import { GatewayError, GatewayErrorCode } from '../gateway.errors';

/** `commandExecutorType` of call commands (PROTOCOL.md "Command envelope"). */
export const CALL_EXECUTOR_TYPE = 'Terrasoft.Messaging.Common.Call, Terrasoft.Messaging.Common';

/** A client command, checked (PROTOCOL.md "Command envelope"). */
export interface ClientCommand {
  commandUId: string;
  command: string;
  libraryInstanceUId: string;
  connectionUId: string;
  commandExecutorId: string;
  commandExecutorType: string;
  /** The executor call as the client sent it (a JSON string), or ''. */
  commandExecutor: string;
  parameters: Record<string, unknown>;
}

const STRING_FIELDS = [
  'commandUId',
  'libraryInstanceUId',
  'connectionUId',
  'commandExecutorId',
  'commandExecutorType',
  'commandExecutor',
] as const;

function commandError(code: GatewayErrorCode, message: string): GatewayError {
  return new GatewayError(code, MsgErrorType.COMMAND, message);
}

/**
 * Parses one client command from frame text. Throws GatewayError (BadJson, MissingField) naming
 * what is wrong; the caller turns it into an ERROR event. `commandUId` is recovered when the
 * object parses, so the error can refer to the command.
 */
export function parseClientCommand(text: string): ClientCommand {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof SyntaxError ? err.message : 'unparsable';
    throw commandError(GatewayErrorCode.BadJson, `the command is not valid JSON (${reason})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw commandError(
      GatewayErrorCode.BadJson,
      `the command must be a JSON object, not ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`,
    );
  }
  const obj = raw as Record<string, unknown>;
  const command = obj['command'];
  if (typeof command !== 'string' || command.trim() === '') {
    throw commandError(
      GatewayErrorCode.MissingField,
      command === undefined
        ? 'the command has no "command" field'
        : '"command" must be a non-empty string',
    );
  }
  const out: ClientCommand = {
    commandUId: '',
    command: command.trim(),
    libraryInstanceUId: '',
    connectionUId: '',
    commandExecutorId: '',
    commandExecutorType: '',
    commandExecutor: '',
    parameters: {},
  };
  for (const key of STRING_FIELDS) {
    const v = obj[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') {
      throw commandError(GatewayErrorCode.MissingField, `"${key}" must be a string`);
    }
    out[key] = v;
  }
  const params = obj['parameters'];
  if (params !== undefined && params !== null) {
    if (typeof params === 'string') {
      out.parameters = parseJsonObject(params, 'parameters');
    } else if (typeof params === 'object' && !Array.isArray(params)) {
      out.parameters = params as Record<string, unknown>;
    } else {
      throw commandError(GatewayErrorCode.MissingField, '"parameters" must be an object');
    }
  }
  return out;
}

/** The commandUId of a frame, when it parses far enough (for the ERROR event of a bad command). */
export function commandUIdOf(text: string): string {
  try {
    const obj = JSON.parse(text) as unknown;
    if (typeof obj === 'object' && obj !== null && !Array.isArray(obj)) {
      const uid = (obj as Record<string, unknown>)['commandUId'];
      if (typeof uid === 'string') return uid;
    }
  } catch {
    return '';
  }
  return '';
}

/** A JSON object given as a JSON string (connectionParams, a call executor), or as an object. */
export function parseJsonObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  if (typeof value !== 'string') {
    throw commandError(GatewayErrorCode.BadParameter, `"${name}" must be a JSON object string`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw commandError(GatewayErrorCode.BadParameter, `"${name}" is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw commandError(GatewayErrorCode.BadParameter, `"${name}" must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** A required string parameter (numbers are accepted and turned into text: "305" or 305). */
export function requireStringParam(cmd: ClientCommand, name: string): string {
  const v = cmd.parameters[name];
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string' || v.trim() === '') {
    throw commandError(
      GatewayErrorCode.MissingField,
      `${cmd.command} needs the parameter "${name}" (a non-empty string)`,
    );
  }
  return v.trim();
}

/** A value of a settings map, case-insensitive key ("ExtensionName" or "extensionName"). */
export function getCI(obj: Record<string, unknown>, key: string): unknown {
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/** A boolean given as true/false or "true"/"false" (any case); undefined when absent or other. */
export function looseBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
  }
  return undefined;
}

/**
 * The id of the call a call command is about: `commandExecutorId`, else the `id` of the
 * executor JSON. Only the id is used; the executor's state is never trusted.
 */
export function executorCallId(cmd: ClientCommand): string {
  if (cmd.commandExecutorId.trim()) return cmd.commandExecutorId.trim();
  if (cmd.commandExecutor.trim()) {
    const call = parseJsonObject(cmd.commandExecutor, 'commandExecutor');
    const id = call['id'];
    if (typeof id === 'string' && id.trim()) return id.trim();
  }
  throw commandError(
    GatewayErrorCode.MissingField,
    `${cmd.command} needs the call: "commandExecutorId" (or a "commandExecutor" with an id)`,
  );
}

/** The id of a call given as a JSON string parameter (TransferCall's consultationCall, ...). */
export function callIdParam(cmd: ClientCommand, name: string): string {
  const v = cmd.parameters[name];
  if (v === undefined || v === null || v === '') {
    throw commandError(
      GatewayErrorCode.MissingField,
      `${cmd.command} needs the parameter "${name}"`,
    );
  }
  const call = parseJsonObject(v, name);
  const id = call['id'];
  if (typeof id !== 'string' || id.trim() === '') {
    throw commandError(GatewayErrorCode.BadParameter, `"${name}" has no call "id"`);
  }
  return id.trim();
}

/** The keys of a Call on the wire, in order (PROTOCOL.md "Call object"): nothing else is sent. */
export const CALL_KEYS = [
  'id',
  'databaseUId',
  'userContactUId',
  'deviceId',
  'callerId',
  'calledId',
  'direction',
  'state',
  'oldState',
  'callFeaturesSet',
  'callContext',
  'callContextType',
  'startTime',
  'endTime',
  'redirectingId',
  'redirectionId',
  'timeStamp',
] as const;

/** A copy of a call with only the protocol's keys (absent values left out). */
export function wireCall(call: Call): Record<string, unknown> {
  const src = call as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of CALL_KEYS) {
    const v = src[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

/** privateData of an event: null, or event 14's reconnection hint. */
export type PrivateData = null | { ignoreTryReconnection: boolean };

/**
 * One server event, serialised once and stamped per connection (the envelope carries the
 * connection's connectionUId). Envelope keys are exactly PROTOCOL.md's, in its order.
 */
export class ServerEvent {
  private readonly prefix: string;
  private readonly suffix: string;

  constructor(
    readonly eventType: MsgEventType,
    /** The content text: JSON text, or raw for events 1 and 4. */
    readonly content: string,
    readonly commandUId = '',
    privateData: PrivateData = null,
  ) {
    this.prefix = `{"eventType":${eventType},"content":${JSON.stringify(content)},"contentType":"","connectionUId":`;
    this.suffix = `,"commandUId":${JSON.stringify(commandUId)},"privateData":${JSON.stringify(privateData)}}`;
  }

  /** The envelope JSON for one connection. */
  envelope(connectionUId: string): string {
    return this.prefix + JSON.stringify(connectionUId) + this.suffix;
  }
}

export const events = {
  libraryInitialized(libraryInstanceUId: string, commandUId: string): ServerEvent {
    return new ServerEvent(MsgEventType.LIBRARY_INITIALIZED, libraryInstanceUId, commandUId);
  },
  connectionCreated(connectionUId: string, commandUId: string): ServerEvent {
    return new ServerEvent(
      MsgEventType.CONNECTION_CREATED,
      JSON.stringify(connectionUId),
      commandUId,
    );
  },
  error(
    errorType: MsgErrorType,
    internalErrorCode: string,
    data: string,
    source: string,
    commandUId: string,
  ): ServerEvent {
    return new ServerEvent(
      MsgEventType.ERROR,
      JSON.stringify({ errorType, internalErrorCode, data, source }),
      commandUId,
    );
  },
  commandInfo(text: string, commandUId: string): ServerEvent {
    return new ServerEvent(MsgEventType.COMMAND_INFO, text, commandUId);
  },
  call(type: MsgEventType, call: Call, commandUId = ''): ServerEvent {
    return new ServerEvent(type, JSON.stringify(wireCall(call)), commandUId);
  },
  snapshot(active: readonly Call[], current: Call | null, commandUId: string): ServerEvent {
    return new ServerEvent(
      MsgEventType.ACTIVE_CALL_SNAPSHOT,
      JSON.stringify({
        ActiveCalls: active.map(wireCall),
        CurrentCall: current ? wireCall(current) : null,
      }),
      commandUId,
    );
  },
  lineState(callFeaturesSet: number, callId: string | undefined, commandUId = ''): ServerEvent {
    return new ServerEvent(
      MsgEventType.LINE_STATE_CHANGED,
      JSON.stringify(callId ? { callFeaturesSet, callId } : { callFeaturesSet }),
      commandUId,
    );
  },
  agentState(code: string, commandUId = ''): ServerEvent {
    return new ServerEvent(MsgEventType.AGENT_STATE_CHANGED, JSON.stringify(code), commandUId);
  },
  rawData(data: unknown): ServerEvent {
    return new ServerEvent(MsgEventType.RAW_DATA, JSON.stringify(data));
  },
  disconnected(reason: string, ignoreTryReconnection: boolean): ServerEvent {
    return new ServerEvent(MsgEventType.DISCONNECTED, JSON.stringify(reason), '', {
      ignoreTryReconnection,
    });
  },
};
