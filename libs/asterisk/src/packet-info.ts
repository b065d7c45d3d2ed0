import type { AmiPacketView } from './asterisk.types';

/** One entry of packetInfoConfig: copy `name` (an AMI header or a channel variable) into callContext[key]. */
export interface PacketInfoField {
  key: string;
  kind: 'header' | 'var';
  name: string;
}

export enum PacketInfoConfigErrorCode {
  Invalid = 'PACKET_INFO_CONFIG_INVALID',
}

export class PacketInfoConfigError extends Error {
  override name = 'PacketInfoConfigError';
  readonly code = PacketInfoConfigErrorCode.Invalid;
}

/**
 * Parses packetInfoConfig (docs/asterisk.md). Entries are separated by `,` or `;`; each entry is
 * `[key=]source` where source is `Header` or `header:Header` (an AMI header of the packets about the
 * call's channel) or `var:NAME` (a channel variable: `ChanVariable` headers, see manager.conf
 * `channelvars`). key defaults to the name. An empty string copies nothing.
 */
export function parsePacketInfoConfig(text: string): PacketInfoField[] {
  const out: PacketInfoField[] = [];
  for (const raw of text.split(/[;,]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    const key = eq >= 0 ? entry.slice(0, eq).trim() : '';
    const source = (eq >= 0 ? entry.slice(eq + 1) : entry).trim();
    const colon = source.indexOf(':');
    let kind: 'header' | 'var' = 'header';
    let name = source;
    if (colon >= 0) {
      const prefix = source.slice(0, colon).trim().toLowerCase();
      name = source.slice(colon + 1).trim();
      if (prefix === 'var' || prefix === 'variable') kind = 'var';
      else if (prefix !== 'header') {
        throw new PacketInfoConfigError(
          `packetInfoConfig entry '${entry}': unknown source '${prefix}' (use header: or var:)`,
        );
      }
    }
    if (!/^[A-Za-z0-9_-]+$/.test(name) || (eq >= 0 && !/^[A-Za-z0-9_.-]+$/.test(key))) {
      throw new PacketInfoConfigError(
        `packetInfoConfig entry '${entry}' is not [key=][header:|var:]Name (letters, digits, _ and -)`,
      );
    }
    out.push({ key: key || name, kind, name });
  }
  return out;
}

/** Copies the values of `fields` present in `packet` (non-empty, not `<unknown>`) into `into`. */
export function extractPacketInfo(
  fields: readonly PacketInfoField[],
  packet: AmiPacketView,
  into: Record<string, string>,
): boolean {
  let changed = false;
  for (const f of fields) {
    let v: string | undefined;
    if (f.kind === 'header') v = packet.get(f.name);
    else v = packet.chanVariables?.get(f.name) ?? packet.get(`ChanVariable(${f.name})`);
    if (v !== undefined && v !== '' && v !== '<unknown>' && into[f.key] !== v) {
      into[f.key] = v;
      changed = true;
    }
  }
  return changed;
}
