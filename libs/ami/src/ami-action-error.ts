import { AmiError, AmiErrorCode } from './ami.errors';
import type { AmiPacket } from './protocol';

/** Asterisk answered `Response: Error` to an action: `.response` is that packet, `.serverMessage` its Message. */
export class AmiActionError extends AmiError {
  override name = 'AmiActionError';
  /** The server's `Message:` (e.g. `Permission denied`), or '' when it sent none. */
  readonly serverMessage: string;
  constructor(
    readonly action: string,
    readonly response: AmiPacket,
  ) {
    const serverMessage = response.get('Message') ?? '';
    super(
      AmiErrorCode.ActionFailed,
      `AMI action ${action} failed: ${serverMessage || `Response: ${response.response ?? '?'}`}`,
    );
    this.serverMessage = serverMessage;
  }
}
