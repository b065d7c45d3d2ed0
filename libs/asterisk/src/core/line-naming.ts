/**
 * Owns how names map to lines: channel names (`SIP/305-0000000a`), queue member interfaces
 * (queueExtensionFormat) and the protocol prefix. Pure: set once from the options, never written.
 */

export class LineNaming {
  /** Channel technology prefix of the users' lines, as configured ('SIP/'). */
  readonly protocol: string;
  /** The same in lower case (names are compared without case). */
  readonly protocolLower: string;
  private readonly memberPattern: RegExp;

  constructor(
    protocol: string,
    private readonly queueExtensionFormat: string,
  ) {
    this.protocol = protocol;
    this.protocolLower = protocol.toLowerCase();
    const [before, after] = queueExtensionFormat.split('{0}', 2) as [string, string?];
    this.memberPattern = new RegExp(
      `^${escapeRegExp(before)}(.+?)${escapeRegExp(after ?? '')}$`,
      'i',
    );
  }

  /** The member interface of a line in its queues (queueExtensionFormat). */
  memberInterface(line: string): string {
    return this.queueExtensionFormat.replace('{0}', line);
  }

  /** The line of a member interface (`Local/305@from-queue/n` or `SIP/305`), or undefined. */
  lineOfMember(iface: string): string | undefined {
    const m = this.memberPattern.exec(iface);
    if (m) return m[1];
    if (iface.toLowerCase().startsWith(this.protocolLower)) {
      const rest = iface.slice(this.protocol.length);
      return rest.includes('-') || rest.includes('/') ? undefined : rest;
    }
    return undefined;
  }

  /** The line of a channel name (`SIP/305-0000000a` -> `305`), or undefined. */
  lineOfChannel(name: string): string | undefined {
    if (!name.toLowerCase().startsWith(this.protocolLower)) return undefined;
    const dash = name.lastIndexOf('-');
    if (dash <= this.protocol.length) return undefined;
    return name.slice(this.protocol.length, dash);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
