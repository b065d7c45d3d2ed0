/**
 * Owns how names map to lines: channel names (`SIP/305-0000000a`), queue member interfaces
 * (queueExtensionFormat), the protocol prefix, which endpoints are operators' lines and which
 * are trunks (asterisk.trunks, asterisk.lines), and the key of a line (lineKey of @app/messaging:
 * chan_sip compares device names without regard to case, chan_pjsip exactly; every line it
 * returns is a key). Written only here: the rules are set once from the options; the endpoints
 * learned as trunks from their context grow as channels are seen.
 */

import { lineKey, lineNameCaseOf, type LineNameCase } from '@app/messaging';
import type { LineRules } from '../asterisk.types';

/**
 * The default: FreePBX puts every trunk (chan_sip or PJSIP) in the from-trunk / from-pstn context
 * and every extension in from-internal, so a channel that starts in a trunk context is a trunk.
 */
export const FREEPBX_TRUNKS: readonly string[] = ['context:from-trunk*', 'context:from-pstn*'];

const PATTERN_RE = /^[A-Za-z0-9_.*?@+-]{1,80}$/;
/** At most this many endpoints are remembered as trunks (a bound against a flood of names). */
const MAX_LEARNED = 10_000;

/** Why an entry of asterisk.trunks (`context:` allowed) or asterisk.lines is malformed, or undefined. */
export function linePatternProblem(entry: string, allowContext: boolean): string | undefined {
  const isContext = allowContext && entry.toLowerCase().startsWith('context:');
  const body = isContext ? entry.slice('context:'.length) : entry;
  if (!PATTERN_RE.test(body)) {
    return `'${entry.slice(0, 80)}' is not ${isContext ? 'a context name or pattern' : 'an endpoint name or pattern'} (letters, digits, _ . @ + - and the wildcards * ?)`;
  }
  return undefined;
}

function glob(pattern: string): RegExp {
  let body = '';
  for (const c of pattern) body += c === '*' ? '.*' : c === '?' ? '.' : escapeRegExp(c);
  return new RegExp(`^${body}$`, 'i');
}

export class LineNaming {
  /** Channel technology prefix of the users' lines, as configured ('SIP/'). */
  readonly protocol: string;
  /** The same in lower case (names are compared without case). */
  readonly protocolLower: string;
  /** How the channel driver of `protocol` compares device names. */
  readonly lineCase: LineNameCase;
  private readonly memberPattern: RegExp;
  private readonly trunkNames: RegExp[] = [];
  private readonly trunkContexts: RegExp[] = [];
  private readonly lineNames: RegExp[];
  /** Endpoints seen starting a channel in a trunk context: trunks from then on. */
  private readonly learnedTrunks = new Set<string>();

  constructor(
    protocol: string,
    private readonly queueExtensionFormat: string,
    rules: LineRules = { trunks: FREEPBX_TRUNKS, lines: [] },
  ) {
    this.protocol = protocol;
    this.protocolLower = protocol.toLowerCase();
    this.lineCase = lineNameCaseOf(protocol);
    const [before, after] = queueExtensionFormat.split('{0}', 2) as [string, string?];
    this.memberPattern = new RegExp(
      `^${escapeRegExp(before)}(.+?)${escapeRegExp(after ?? '')}$`,
      'i',
    );
    for (const t of rules.trunks) {
      const problem = linePatternProblem(t, true);
      if (problem) throw new RangeError(`asterisk.trunks: ${problem}`);
      if (t.toLowerCase().startsWith('context:'))
        this.trunkContexts.push(glob(t.slice('context:'.length)));
      else this.trunkNames.push(glob(t));
    }
    this.lineNames = rules.lines.map((l) => {
      const problem = linePatternProblem(l, false);
      if (problem) throw new RangeError(`asterisk.lines: ${problem}`);
      return glob(l);
    });
  }

  /** The key of a line: `OFFICE` and `office` are one chan_sip peer, two chan_pjsip endpoints. */
  key(line: string): string {
    return lineKey(line, this.lineCase);
  }

  /** The member interface of a line in its queues (queueExtensionFormat). */
  memberInterface(line: string): string {
    return this.queueExtensionFormat.replace('{0}', line);
  }

  /** The line of a member interface (`Local/305@from-queue/n` or `SIP/305`), or undefined. */
  lineOfMember(iface: string): string | undefined {
    const m = this.memberPattern.exec(iface);
    if (m) return this.key(m[1]!);
    if (iface.toLowerCase().startsWith(this.protocolLower)) {
      const rest = iface.slice(this.protocol.length);
      return rest.includes('-') || rest.includes('/') ? undefined : this.key(rest);
    }
    return undefined;
  }

  /** The endpoint of a channel of the lines' technology (`SIP/trunk-in-00000003` -> `trunk-in`). */
  endpointOf(name: string): string | undefined {
    if (!name.toLowerCase().startsWith(this.protocolLower)) return undefined;
    const dash = name.lastIndexOf('-');
    if (dash <= this.protocol.length) return undefined;
    return name.slice(this.protocol.length, dash);
  }

  /**
   * Whether an endpoint is an operator's line: not a trunk by name, listed in asterisk.lines when
   * that is set, and not starting its channel (`context`, the Newchannel's) in a trunk context;
   * an endpoint found in a trunk context stays a trunk.
   */
  isLine(endpoint: string, context?: string): boolean {
    if (this.learnedTrunks.has(this.key(endpoint))) return false;
    if (this.trunkNames.some((r) => r.test(endpoint))) return false;
    if (this.lineNames.length > 0 && !this.lineNames.some((r) => r.test(endpoint))) return false;
    if (context && this.trunkContexts.some((r) => r.test(context))) {
      if (this.learnedTrunks.size < MAX_LEARNED) this.learnedTrunks.add(this.key(endpoint));
      return false;
    }
    return true;
  }

  /**
   * The line of a channel name (`SIP/305-0000000a` -> `305`), or undefined: another technology, a
   * trunk, or an endpoint asterisk.lines does not list. `context`: where the channel starts.
   */
  lineOfChannel(name: string, context?: string): string | undefined {
    const endpoint = this.endpointOf(name);
    return endpoint !== undefined && this.isLine(endpoint, context)
      ? this.key(endpoint)
      : undefined;
  }

  /** Endpoints learned as trunks from their context (diagnostics, tests). */
  trunksLearned(): string[] {
    return [...this.learnedTrunks];
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
