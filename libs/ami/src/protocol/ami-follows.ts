/**
 * Owns the reading of an old-style command answer (Asterisk < 14: `Response: Follows`, output
 * lines, `--END COMMAND--`) into a packet. Pure: text in, packet out; the decoder finds where
 * such an answer ends (its output may hold empty lines) and hands the whole text here.
 */
import { AmiPacket } from './ami-packet';
import { CR, END_COMMAND } from './ami-wire';

/** Header names of the old command form (`Privilege: Command`, `ActionID: 12`): a plain token. */
const TOKEN_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * One old-style command answer (text: `Response: Follows` through the empty line after
 * `--END COMMAND--`): headers while lines are `Token: value`, then output lines (empty ones
 * too) up to the marker, then headers again up to the empty line that ends the packet.
 */
export function parseFollows(text: string): AmiPacket {
  const keys: string[] = [];
  const values: string[] = [];
  const output: string[] = [];
  // Without the empty line that ends the packet (text ends with LF LF or LF CR LF).
  const body = text.charCodeAt(text.length - 2) === CR ? text.length - 2 : text.length - 1;
  let state: 'headers' | 'output' | 'after' = 'headers';
  let pos = 0;
  while (pos < body) {
    const ls = pos;
    let nl = text.indexOf('\n', pos);
    if (nl === -1 || nl > body) nl = body;
    let le = nl;
    if (le > pos && text.charCodeAt(le - 1) === CR) le -= 1;
    const line = text.slice(pos, le);
    pos = nl + 1;
    if (state === 'output') {
      const marker = line.indexOf(END_COMMAND);
      if (marker === -1) {
        output.push(line);
        continue;
      }
      // `last line--END COMMAND--`: output cut short by the marker.
      if (marker > 0) output.push(line.slice(0, marker));
      state = 'after';
      continue;
    }
    const colon = line.indexOf(':');
    const key = colon > 0 ? line.slice(0, colon).replace(/ +$/, '') : '';
    if (key !== '' && (state === 'after' || TOKEN_KEY.test(key))) {
      keys.push(key);
      values.push(line.slice(colon + 1).replace(/^[ \t]+/, ''));
    } else if (state === 'after') {
      if (line !== '' && line !== END_COMMAND) output.push(line);
    } else {
      // The first line that is not a header starts the output: read it again as output.
      state = 'output';
      pos = ls;
    }
  }
  return new AmiPacket(keys, values, output);
}
