/**
 * Owns the call id: one pure function, the same on every node of a cluster.
 * May not touch any tracker state.
 */
import { createHash } from 'node:crypto';

/**
 * The id of a line's call: a UUID (v5 layout) from the line and the Uniqueid of the line's channel
 * that started it. Every node of a cluster sees the same events and so gives the call the same id
 * (a client or a REST call may reach any node); it stays for the life of the call.
 */
export function callIdOf(line: string, uniqueid: string, salt = ''): string {
  const h = createHash('sha1').update(`${line}\u0000${uniqueid}\u0000${salt}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
