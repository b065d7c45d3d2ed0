/** Paths of the SignalR hub (PROTOCOL.md "Transports"): `/` (inferred) and `/msg`. */
export const SIGNALR_HUB_PATHS = ['/', '/msg'] as const;

/** A SignalR socket must send its handshake within this time (as ASP.NET Core's default). */
export const SIGNALR_HANDSHAKE_TIMEOUT_MS = 15_000;

/**
 * The hard cap of one WebSocket message: larger frames are refused by `ws` itself with close code
 * 1009. Frames between server.maxCommandLength and this get an ERROR event and the socket stays.
 */
export function hardFrameLimit(maxCommandLength: number): number {
  return Math.max(64 * 1024, maxCommandLength * 4);
}
