/**
 * Owns the opening of the byte stream to Asterisk: TCP, or TLS (SNI from the host name). Plain TCP
 * reads into one 64 KiB buffer filled again and again (no new Buffer per read): its chunks are
 * only valid during the callback, and the decoder copies what it keeps of them.
 */
import { isIP, Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';

/** The read buffer of a plain TCP connection. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * Connects to host:port. Plain TCP chunks go to `onReusedChunk` (the reused read buffer); a TLS
 * socket delivers new Buffers through its 'data' event instead. `connectEvent` is the event that
 * says the stream is up ('connect' or 'secureConnect').
 */
export function openTransport(
  host: string,
  port: number,
  tls: boolean | TlsConnectionOptions | undefined,
  onReusedChunk: (chunk: Buffer) => void,
): { socket: Socket; connectEvent: 'connect' | 'secureConnect' } {
  if (tls) {
    const tlsOptions: TlsConnectionOptions = typeof tls === 'object' ? { ...tls } : {};
    if (tlsOptions.servername === undefined && !isIP(host)) tlsOptions.servername = host;
    return { socket: tlsConnect({ ...tlsOptions, host, port }), connectEvent: 'secureConnect' };
  }
  const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const socket = netConnect({
    host,
    port,
    onread: {
      buffer: readBuffer,
      callback: (n: number, buf: Uint8Array): boolean => {
        onReusedChunk(Buffer.from(buf.buffer, buf.byteOffset, n));
        return true;
      },
    },
  });
  return { socket, connectEvent: 'connect' };
}
