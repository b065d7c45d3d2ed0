// The legacy XML configuration of Creatio's .NET Framework messaging service
// (`Terrasoft.Messaging.Service.exe.config`): only the `<asterisk .../>` element's attributes are
// read, as the `asterisk` block (names matched without regard to case, values as strings).
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ConfigError, ConfigErrorCode } from './config.errors';

type Plain = Record<string, unknown>;

export interface LegacyXml {
  /** `{ asterisk: { <attribute>: <value as written> } }`. */
  raw: Plain;
  /** What was read leniently or left aside, for the admin (warnings). */
  notes: string[];
}

/** A preserveOrder node of fast-xml-parser: `{ tag: children[], ':@'?: attributes }`. */
type XmlNode = Record<string, unknown>;

const ATTRS = ':@';
const MAX_FIXES = 200;

function offsetOf(text: string, line: number, col: number): number {
  let at = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) return text.length;
    at = nl + 1;
  }
  return at + col - 1;
}

/**
 * Checks the document; an attribute written right after the previous one's closing quote
 * (`filePath=" "url="..."`, as in Creatio's own guide) is read as if a blank separated them.
 */
function wellFormed(text: string, path: string, notes: string[]): string {
  let doc = text;
  const glued: string[] = [];
  for (let i = 0; i <= MAX_FIXES; i++) {
    const r = XMLValidator.validate(doc, { allowBooleanAttributes: false });
    if (r === true) break;
    const { code, msg, line, col } = r.err;
    const m = /^Attribute '([^']+)' has no space in starting\.$/.exec(msg);
    if (code === 'InvalidAttr' && m && i < MAX_FIXES) {
      const at = offsetOf(doc, line, col);
      if (doc.slice(at, at + m[1]!.length) === m[1]) {
        doc = `${doc.slice(0, at)} ${doc.slice(at)}`;
        glued.push(`${m[1]} (line ${line})`);
        continue;
      }
    }
    // The parser's messages name tags and attributes, never their values.
    throw new ConfigError(
      ConfigErrorCode.InvalidXml,
      [`${path}: not valid XML at line ${line}, column ${col}: ${msg}`],
      'Cannot load configuration',
    );
  }
  if (glued.length > 0) {
    notes.push(
      `${path}: no blank before attribute ${glued.join(', ')}; read as if there were one (fix the file: other XML readers refuse it)`,
    );
  }
  return doc;
}

function tagOf(node: XmlNode): string | undefined {
  return Object.keys(node).find((k) => k !== ATTRS);
}

interface Found {
  element: XmlNode;
  name: string;
}

/** Every `<asterisk>` element (any depth, any case) and the names of the elements left aside. */
function walk(nodes: XmlNode[], found: Found[], ignored: Set<string>): boolean {
  let holds = false;
  for (const node of nodes) {
    const tag = tagOf(node);
    if (!tag || tag.startsWith('#') || tag.startsWith('?')) continue;
    const children = (Array.isArray(node[tag]) ? node[tag] : []) as XmlNode[];
    if (tag.toLowerCase() === 'asterisk') {
      found.push({ element: node, name: tag });
      holds = true;
      continue;
    }
    const below = new Set<string>();
    if (walk(children, found, below)) {
      holds = true;
      below.forEach((n) => ignored.add(n));
    } else ignored.add(`<${tag}>`);
  }
  return holds;
}

/** Reads the `<asterisk>` element of a legacy XML configuration (see the file's header). */
export function readLegacyXml(text: string, path: string): LegacyXml {
  const notes: string[] = [];
  const doc = wellFormed(text.replace(/^\uFEFF/, ''), path, notes);
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    processEntities: true,
    htmlEntities: false,
  });
  let tree: XmlNode[];
  try {
    tree = parser.parse(doc) as XmlNode[];
  } catch (err) {
    throw new ConfigError(
      ConfigErrorCode.InvalidXml,
      [`${path}: not usable XML (${(err as Error).message.split('\n')[0]})`],
      'Cannot load configuration',
    );
  }
  const found: Found[] = [];
  const ignored = new Set<string>();
  walk(tree, found, ignored);
  if (found.length === 0) {
    throw new ConfigError(ConfigErrorCode.Invalid, [
      `${path}: no <asterisk .../> element (the Asterisk connector's settings) in this XML file`,
    ]);
  }
  if (found.length > 1) {
    throw new ConfigError(ConfigErrorCode.Invalid, [
      `${path}: ${found.length} <asterisk> elements; keep one`,
    ]);
  }
  const { element, name } = found[0]!;
  const attrs: Plain = {};
  for (const [k, v] of Object.entries((element[ATTRS] ?? {}) as Record<string, unknown>)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    attrs[k] = typeof v === 'string' ? v : String(v);
  }
  const inner = ((element[name] ?? []) as XmlNode[]).filter((n) => {
    const t = tagOf(n);
    return t !== undefined && !(t === '#text' && String(n[t]).trim() === '');
  });
  if (inner.length > 0) {
    notes.push(`${path}: content inside <${name}> is ignored; only its attributes are read`);
  }
  if (ignored.size > 0) {
    const list = [...ignored];
    const shown =
      list.slice(0, 8).join(', ') + (list.length > 8 ? `, and ${list.length - 8} more` : '');
    notes.push(
      `${path}: only <${name} .../> is read from this XML file; ignored: ${shown} (set the service's own keys in JSON or the environment)`,
    );
  }
  return { raw: { asterisk: attrs }, notes };
}
