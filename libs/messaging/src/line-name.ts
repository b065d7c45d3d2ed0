/**
 * Owns what a line name is and how two are compared: the one rule (a plain name, no channel
 * technology, no marks) and the one key (lineKey) under which a line is bound, owned and stored,
 * compared the way the PBX's channel driver compares device names. Pure functions.
 */

/** A plain line name: letters, digits and _ . @ + - (1 to 64), e.g. `305` or `office`. */
export const LINE_NAME_PATTERN = /^[A-Za-z0-9_.@+-]{1,64}$/;
export const LINE_NAME_RULE = 'letters, digits and _ . @ + - (1 to 64), e.g. 305 or office';

/**
 * How the channel driver compares device names: `exact` (chan_pjsip endpoints, chan_iax2 peers:
 * `strcmp`) or `ignore-case` (chan_sip peers: `strcasecmp`, so `SIP/OFFICE` rings `office`).
 */
export type LineNameCase = 'exact' | 'ignore-case';

/** The comparison of a channel technology's device names (`SIP/` ignores case; others do not). */
export function lineNameCaseOf(channelTechnology: string): LineNameCase {
  return channelTechnology.replace(/\/$/, '').toUpperCase() === 'SIP' ? 'ignore-case' : 'exact';
}

/**
 * The key of a line: two names with the same key are the same device for the channel driver, so
 * one user owns both, one binding serves both and one settings entry holds both. ASCII case only
 * (line names are ASCII by LINE_NAME_PATTERN).
 */
export function lineKey(line: string, rule: LineNameCase): string {
  return rule === 'ignore-case' ? line.toLowerCase() : line;
}

/**
 * A line name as a client gives it (a string, or a whole number as Creatio may send 305), or why
 * it is not a plain line name (the reason names what is wrong, for an error the client sees).
 */
export function parseLineName(value: unknown): { line: string } | { problem: string } {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      return { problem: `the number ${String(value)} is not a whole line number` };
    }
    return { line: String(value) };
  }
  if (typeof value !== 'string') {
    const what =
      value === null ? 'null' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
    return { problem: `${what} is not a line name` };
  }
  const line = value.trim();
  if (line === '') return { problem: 'it is empty' };
  if (LINE_NAME_PATTERN.test(line)) return { line };
  if (line.includes('/')) {
    return { problem: 'give the line alone, without its channel technology (305, not SIP/305)' };
  }
  if (line.length > 64) return { problem: `it is ${line.length} characters long (at most 64)` };
  return { problem: `it may hold only ${LINE_NAME_RULE}` };
}
