import type { Logger } from '@nestjs/common';
import type { WebSocket, RawData } from 'ws';
import { MsgErrorType } from '@app/messaging';
import { ClientSession, type GatewayContext, type SessionTransport } from './client-session';
import { GatewayError, GatewayErrorCode } from './gateway.errors';
import type { GatewayObserver } from './gateway-observer';
import type { ServerEvent } from './protocol/client-protocol';
import {
  HANDSHAKE_OK,
  HubMessageType,
  PING_RECORD,
  SignalRProtocolError,
  checkHandshake,
  closeRecord,
  completionError,
  completionResult,
  handshakeError,
  invocationRecord,
  looksLikeHandshake,
  parseHubMessage,
  splitRecords,
} from './signalr/signalr-protocol';

/** How a socket speaks: not known yet, plain JSON frames, or SignalR (before/after its handshake). */
export type SocketMode = 'detect' | 'plain' | 'signalr-handshake' | 'signalr';

export interface ClientSocketOptions {
  maxCommandLength: number;
  maxBufferedBytes: number;
  origin: string | undefined;
  queryToken: string | undefined;
  peer: string;
  /** A negotiated SignalR connection (`?id=`): SignalR from the first frame. */
  signalR: boolean;
  /** Called once when the socket is closed (for the gateway's bookkeeping). */
  onClose(socket: ClientSocket): void;
  metrics?: GatewayObserver;
}

/** Close codes (RFC 6455). */
const CLOSE_NORMAL = 1000;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_POLICY = 1008;
const CLOSE_PROTOCOL = 1002;

/** The most a close frame's reason may hold (RFC 6455: 125 bytes of payload, 2 for the code). */
const MAX_CLOSE_REASON_BYTES = 123;

/** A close reason cut to 123 UTF-8 bytes on a character boundary (`ws` throws beyond that). */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text, 'utf8') <= MAX_CLOSE_REASON_BYTES) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > MAX_CLOSE_REASON_BYTES) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * One client WebSocket: detects the transport (plain frames, or SignalR by its handshake record),
 * frames events for it, enforces the command size and the send-buffer cap, and answers pings.
 */
export class ClientSocket implements SessionTransport {
  readonly session: ClientSession;
  private mode: SocketMode;
  /** Something arrived since the last heartbeat (a frame or a pong). */
  alive = true;
  private closing = false;
  readonly openedAt = Date.now();

  constructor(
    private readonly ws: WebSocket,
    ctx: GatewayContext,
    private readonly logger: Logger,
    private readonly options: ClientSocketOptions,
  ) {
    this.mode = options.signalR ? 'signalr-handshake' : 'detect';
    this.session = new ClientSession(ctx, this);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (err) => {
      this.logger.debug(`socket of ${this.peer}: ${err.message}`);
    });
    ws.once('close', () => {
      this.closing = true;
      this.session.dispose();
      this.options.onClose(this);
    });
  }

  get origin(): string | undefined {
    return this.options.origin;
  }
  get queryToken(): string | undefined {
    return this.options.queryToken;
  }
  get peer(): string {
    return this.options.peer;
  }
  get transportMode(): SocketMode {
    return this.mode;
  }
  get isOpen(): boolean {
    return !this.closing;
  }

  send(event: ServerEvent, connectionUId: string): void {
    if (this.closing) return;
    const envelope = event.envelope(connectionUId);
    this.write(this.mode === 'signalr' ? invocationRecord('ServerMessage', envelope) : envelope);
    this.options.metrics?.eventSent(event.eventType);
  }

  closeSoon(reason: string): void {
    if (this.closing) return;
    this.closing = true;
    if (this.mode === 'signalr') this.writeRaw(closeRecord(reason, false));
    // Give the error event a moment to leave before the close frame.
    setTimeout(() => this.ws.close(CLOSE_POLICY, closeReason(reason)), 50).unref();
  }

  /** Heartbeat tick: a socket silent since the last tick is dead; otherwise ping it. */
  heartbeat(): boolean {
    if (!this.alive) {
      this.logger.warn(`client ${this.peer} did not answer the heartbeat: connection dropped`);
      this.options.metrics?.clientDropped('silent');
      this.ws.terminate();
      return false;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch {
      this.ws.terminate();
      return false;
    }
    if (this.mode === 'signalr') this.writeRaw(PING_RECORD);
    return true;
  }

  /** Server shutdown: close with "going away" (SignalR: a close message allowing reconnection). */
  shutdown(reason: string): void {
    if (this.closing) return;
    this.closing = true;
    if (this.mode === 'signalr') this.writeRaw(closeRecord(reason, true));
    this.ws.close(CLOSE_GOING_AWAY, closeReason(reason));
  }

  terminate(): void {
    this.ws.terminate();
  }

  private write(text: string): void {
    this.writeRaw(text);
  }

  private writeRaw(text: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(text);
    if (this.ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.logger.warn(
        `client ${this.peer} does not read: ${this.ws.bufferedAmount} bytes waiting (server.maxBufferedBytes ${this.options.maxBufferedBytes}); disconnected`,
      );
      this.closing = true;
      this.options.metrics?.clientDropped('slow');
      this.ws.terminate();
    }
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (this.closing) return;
    const buf = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    if (this.mode === 'detect') {
      const text = isBinary ? '' : buf.toString('utf8');
      if (!isBinary && looksLikeHandshake(text)) {
        this.mode = 'signalr-handshake';
      } else {
        this.mode = 'plain';
      }
    }
    if (this.mode === 'plain') {
      this.onPlainFrame(buf, isBinary);
    } else {
      this.onSignalRFrame(buf, isBinary);
    }
  }

  private onPlainFrame(buf: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.session.refuse(
        new GatewayError(
          GatewayErrorCode.BinaryFrame,
          MsgErrorType.COMMAND,
          'binary frames are not accepted: send each command as one JSON text frame',
        ),
      );
      return;
    }
    if (buf.length > this.options.maxCommandLength) {
      this.session.refuse(this.tooLong(buf.length), buf.subarray(0, 512).toString('utf8'));
      return;
    }
    void this.session.handle(buf.toString('utf8'));
  }

  private tooLong(bytes: number): GatewayError {
    return new GatewayError(
      GatewayErrorCode.CommandTooLong,
      MsgErrorType.COMMAND,
      `the command is ${bytes} bytes, more than the ${this.options.maxCommandLength} allowed (server.maxCommandLength)`,
    );
  }

  private onSignalRFrame(buf: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.signalRFailure('binary frames are not part of the JSON hub protocol');
      return;
    }
    let records: string[];
    try {
      records = splitRecords(buf.toString('utf8'));
    } catch (err) {
      this.signalRFailure((err as Error).message);
      return;
    }
    for (const record of records) {
      if (this.closing) return;
      if (this.mode === 'signalr-handshake') {
        const problem = checkHandshake(record);
        if (problem) {
          this.logger.warn(`SignalR handshake of ${this.peer} refused: ${problem}`);
          this.writeRaw(handshakeError(problem));
          this.closing = true;
          this.ws.close(CLOSE_PROTOCOL, 'handshake refused');
          return;
        }
        this.mode = 'signalr';
        this.writeRaw(HANDSHAKE_OK);
        continue;
      }
      this.onHubRecord(record);
    }
  }

  private onHubRecord(record: string): void {
    let msg;
    try {
      msg = parseHubMessage(record);
    } catch (err) {
      this.signalRFailure((err as SignalRProtocolError).message);
      return;
    }
    switch (msg.type) {
      case HubMessageType.Invocation:
        this.onInvocation(msg.target, msg.arguments, msg.invocationId);
        return;
      case HubMessageType.StreamInvocation:
        this.writeRaw(completionError(msg.invocationId, 'streaming methods are not supported'));
        return;
      case HubMessageType.Close:
        this.closing = true;
        this.ws.close(CLOSE_NORMAL);
        return;
      default:
        // Ping (liveness only), CancelInvocation (nothing streams), Ack/Sequence and results: nothing to do.
        return;
    }
  }

  private onInvocation(target: string, args: unknown[], invocationId: string | undefined): void {
    const complete = (result: unknown): void => {
      if (invocationId !== undefined) this.writeRaw(completionResult(invocationId, result));
    };
    const fail = (error: string): void => {
      if (invocationId !== undefined) this.writeRaw(completionError(invocationId, error));
    };
    switch (target.toLowerCase()) {
      case 'ping':
        complete('Pong!');
        return;
      case 'sendrawmessage': {
        const text = args[0];
        if (args.length !== 1 || typeof text !== 'string') {
          fail('SendRawMessage takes one argument: the command as a JSON string');
          return;
        }
        const bytes = Buffer.byteLength(text, 'utf8');
        if (bytes > this.options.maxCommandLength) {
          this.session.refuse(this.tooLong(bytes), text.slice(0, 512));
        } else {
          void this.session.handle(text);
        }
        complete(null);
        return;
      }
      default:
        fail(`Unknown hub method '${target.slice(0, 64)}'`);
    }
  }

  private signalRFailure(reason: string): void {
    this.logger.warn(`SignalR protocol error from ${this.peer}: ${reason}; connection closed`);
    this.closing = true;
    this.writeRaw(closeRecord(`Connection closed with an error: ${reason}`, false));
    this.ws.close(CLOSE_PROTOCOL, closeReason(reason));
  }
}
