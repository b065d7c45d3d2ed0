/**
 * Owns the `limits` block: what one client, one address or one peer may do before it is refused
 * (commands per second, time to open a line, REST header/body time and size, open connections,
 * failed API keys) and when an AMI peer counts as deaf. Every key has a safe default; 0 turns a
 * count limit off where its comment says so.
 */
import { IsInt, Max, Min } from 'class-validator';
import { ToNumber } from './config.decorators';

export class LimitsConfig {
  /** Commands one client connection may send per second (a burst of this many); 0: no limit. */
  @ToNumber()
  @IsInt()
  @Min(0)
  commandsPerSecond = 20;

  /**
   * Of those, commands that make the PBX originate a call (MakeCall, MakeConsultCall) per second
   * (a burst of this many); 0: no limit of their own.
   */
  @ToNumber()
  @IsInt()
  @Min(0)
  originatesPerSecond = 2;

  /** A client connection must have opened a line (LoadLibrary, OpenConnection) within this, ms. */
  @ToNumber()
  @IsInt()
  @Min(1000)
  openTimeoutMs = 15000;

  /** An HTTP request (REST, negotiate, WebSocket upgrade) must send its headers within this, ms. */
  @ToNumber()
  @IsInt()
  @Min(1000)
  headersTimeoutMs = 10000;

  /** A REST request body must arrive whole within this once its headers came, ms. */
  @ToNumber()
  @IsInt()
  @Min(1000)
  bodyTimeoutMs = 10000;

  /** The largest REST request body, bytes (a larger one: 413). */
  @ToNumber()
  @IsInt()
  @Min(1024)
  maxBodyBytes = 64 * 1024;

  /** How deep a REST JSON body may nest objects and arrays (deeper: 400). */
  @ToNumber()
  @IsInt()
  @Min(2)
  @Max(1000)
  maxBodyDepth = 16;

  /** Open connections (HTTP, WebSocket, SignalR, both ports) at most; 0: no limit. */
  @ToNumber()
  @IsInt()
  @Min(0)
  maxConnections = 10000;

  /**
   * Open connections from one remote address at most; 0: no limit. Behind a proxy or ingress
   * every client has the proxy's address: raise it there.
   */
  @ToNumber()
  @IsInt()
  @Min(0)
  maxConnectionsPerAddress = 1000;

  /** REST requests with a missing or unknown API key one address may make per window; then 429. */
  @ToNumber()
  @IsInt()
  @Min(1)
  authFailuresPerAddress = 10;

  /** The window of authFailuresPerAddress, ms (the address waits until it ends). */
  @ToNumber()
  @IsInt()
  @Min(1000)
  authFailureWindowMs = 60000;

  /** AMI: this many actions in a row without any answer mean a deaf peer: reconnect; 0: never. */
  @ToNumber()
  @IsInt()
  @Min(0)
  amiDeafAfterTimeouts = 3;
}
