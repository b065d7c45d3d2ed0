/**
 * Owns what may be dialled: numbers as a CRM shows them ("+7 (916) 123-45-67") made dialable
 * (separators removed, anything else refused), then the site's dial rule for outside numbers
 * (asterisk.dialRewrites, asterisk.dialPrefix). Pure: no state.
 */
import { MessagingCommandError, MessagingErrorCode } from '@app/messaging';

/** The site's rule for outside numbers (asterisk.dialRule*: README). */
export interface DialRule {
  /** Added before an outside number (e.g. `9` where the dialplan takes outside lines with 9). */
  prefix: string;
  /** `from=to` prefix rewrites of an outside number, first match wins (e.g. `+7=8`, `+=00`). */
  rewrites: readonly string[];
  /** A number of at least this many digits, or one starting with +, is an outside number. */
  outsideMinLength: number;
}

export const NO_DIAL_RULE: DialRule = { prefix: '', rewrites: [], outsideMinLength: 7 };

/** What separates digit groups in a written number: blanks, brackets, dashes, dots. */
const SEPARATORS = /[\s()\u00a0\u2010-\u2015.-]/g;
const PHONE_RE = /^\+?[0-9*#]+$/;
/** An extension, a name or a URI part the dialplan takes as it is (`office`, `ext-305`, `1@ctx`). */
const NAME_RE = /^[A-Za-z0-9*#+_.@-]{1,64}$/;

export interface DialTarget {
  /** What the operator asked for, without separators (`+79161234567`): shown as the called party. */
  number: string;
  /** What goes to Asterisk as Exten (the dial rule applied to outside numbers). */
  exten: string;
  outside: boolean;
}

/** Parses a dialable target or throws InvalidArgument saying what is wrong. */
export function parseDialTarget(input: unknown, rule: DialRule, what = 'number'): DialTarget {
  if (typeof input !== 'string') {
    throw new MessagingCommandError(MessagingErrorCode.InvalidArgument, `${what} must be a string`);
  }
  const text = input.trim();
  const compact = text.replace(SEPARATORS, '');
  if (compact.length > 0 && compact.length <= 64 && PHONE_RE.test(compact)) {
    const digits = compact.replace(/[^0-9]/g, '').length;
    const outside = compact.startsWith('+') || digits >= rule.outsideMinLength;
    return { number: compact, exten: outside ? applyRule(compact, rule) : compact, outside };
  }
  if (NAME_RE.test(text)) return { number: text, exten: text, outside: false };
  throw new MessagingCommandError(
    MessagingErrorCode.InvalidArgument,
    `${what} '${text.slice(0, 40)}' cannot be dialled: use digits (with + * #; blanks, brackets, dashes and dots are ignored) or an extension name (letters, digits, _ . @ -)`,
  );
}

function applyRule(n: string, rule: DialRule): string {
  let out = n;
  for (const r of rule.rewrites) {
    const eq = r.indexOf('=');
    const from = r.slice(0, eq);
    if (eq > 0 && out.startsWith(from)) {
      out = r.slice(eq + 1) + out.slice(from.length);
      break;
    }
  }
  return rule.prefix + out;
}

/** Why a rewrite entry is malformed, or undefined (for the configuration check). */
export function dialRewriteProblem(entry: string): string | undefined {
  const eq = entry.indexOf('=');
  if (eq <= 0) return `'${entry}' is not from=to (e.g. +7=8)`;
  if (!/^\+?[0-9*#]*$/.test(entry.slice(0, eq)) || !/^[0-9*#+]*$/.test(entry.slice(eq + 1)))
    return `'${entry}': both sides must be digits (with + * #)`;
  return undefined;
}
