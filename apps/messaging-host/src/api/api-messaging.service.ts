import { ConflictException, Injectable, NotFoundException, Optional } from '@nestjs/common';
import {
  CallState,
  MessagingCommandError,
  MessagingErrorCode,
  MessagingRegistry,
  type Call,
  type HoldResult,
  type LineSession,
  type LineStatus,
  type MessagingLibrary,
  type QueueMembership,
} from '@app/messaging';
import { AppConfig } from '../config/app-config';
import { LineSettingsStore, type StoredLineSettings } from '../settings/line-settings.store';
import { CrmCallRecorder } from '../crm/crm-call-recorder.service';
import type { CrmSaveStatus } from '../crm/crm-save-status';
import type { OriginateCallDto, TransferCallDto } from './dto/calls.dto';

/**
 * What the REST routes do, in terms of the active messaging library: each command opens a session
 * on the call's line, runs, and closes it. Errors stay MessagingCommandError (the filter maps them).
 */
@Injectable()
export class ApiMessagingService {
  constructor(
    private readonly registry: MessagingRegistry,
    private readonly settings: LineSettingsStore,
    private readonly config: AppConfig,
    @Optional() private readonly crm?: CrmCallRecorder,
  ) {}

  private library(): MessagingLibrary {
    return this.registry.active();
  }

  /** Originates `number` for the line; the context: the request's, the line's settings', the global one. */
  async originate(dto: OriginateCallDto): Promise<{ call: Call; context: string }> {
    const stored = await this.settings.get(dto.line);
    if (stored?.disableCallCentre) {
      throw new ConflictException({
        message: `telephony integration is disabled for line ${dto.line} (settings disableCallCentre)`,
        code: 'CALL_CENTRE_DISABLED',
      });
    }
    const context =
      dto.context ?? stored?.originateContext ?? this.config.asterisk.originateContext;
    const call = await this.withLine(dto.line, stored, (s) =>
      s.makeCall(dto.number, {
        context,
        ...(dto.callerId !== undefined ? { callerId: dto.callerId } : {}),
        ...(dto.variables !== undefined ? { variables: dto.variables } : {}),
      }),
    );
    return { call, context };
  }

  listCalls(line?: string): Call[] {
    const lib = this.library();
    if (line !== undefined) return lib.activeCalls(line);
    return lib.busyLines().flatMap((l) => lib.activeCalls(l));
  }

  findCall(id: string): { line: string; call: Call } {
    const found = this.library().findCall(id);
    if (!found) {
      throw new MessagingCommandError(
        MessagingErrorCode.NoSuchCall,
        `no active call with id ${id}`,
      );
    }
    return found;
  }

  /**
   * One call with its line and how its saving in the CRM goes (`crm`, when this node knows): an
   * active call, or one that ended recently and was saved (or given up) here.
   */
  describeCall(id: string): { line: string; call: Call; crm?: CrmSaveStatus } {
    const found = this.library().findCall(id);
    if (found) {
      const crm = this.crm?.status(id, found.line);
      const call = this.crm ? this.crm.decorateCall(found.line, found.call) : found.call;
      return { line: found.line, call, ...(crm ? { crm } : {}) };
    }
    const ended = this.crm?.book.get(id);
    if (ended?.call) {
      const { line, call, ...crm } = ended;
      const databaseUId = crm.databaseUId;
      return { line, call: { ...call, ...(databaseUId ? { databaseUId } : {}) }, crm };
    }
    return this.findCall(id);
  }

  async hangUp(id: string): Promise<void> {
    const { line } = this.findCall(id);
    await this.withLine(line, undefined, (s) => s.dropCall(id));
  }

  async hold(id: string): Promise<HoldResult> {
    const { line, call } = this.findCall(id);
    if (call.state === CallState.HOLDED) {
      throw new MessagingCommandError(
        MessagingErrorCode.InvalidState,
        `call ${id} is already on hold`,
      );
    }
    return this.withLine(line, undefined, (s) => s.holdCall(id));
  }

  async unhold(id: string): Promise<HoldResult> {
    const { line, call } = this.findCall(id);
    if (call.state !== CallState.HOLDED) {
      throw new MessagingCommandError(MessagingErrorCode.InvalidState, `call ${id} is not on hold`);
    }
    return this.withLine(line, undefined, (s) => s.holdCall(id));
  }

  async transfer(
    id: string,
    dto: TransferCallDto,
  ): Promise<{ mode: 'blind' | 'attended'; consultCall?: Call }> {
    const { line } = this.findCall(id);
    let mode = dto.mode;
    const stored = await this.settings.get(line);
    mode ??= stored?.useBlindTransfer ? 'blind' : 'attended';
    if (mode === 'blind') {
      await this.withLine(line, stored, (s) => s.blindTransferCall(id, dto.target));
      return { mode };
    }
    const consultCall = await this.withLine(line, stored, (s) => s.makeConsultCall(id, dto.target));
    return { mode, consultCall };
  }

  async completeTransfer(id: string, consultCallId: string): Promise<void> {
    const { line } = this.findCall(id);
    await this.withLine(line, undefined, (s) => s.transferCall(id, consultCallId));
  }

  async cancelTransfer(id: string, consultCallId: string): Promise<void> {
    const { line } = this.findCall(id);
    await this.withLine(line, undefined, (s) => s.cancelTransfer(id, consultCallId));
  }

  async dtmf(id: string, digits: string): Promise<void> {
    const { line } = this.findCall(id);
    await this.withLine(line, undefined, (s) => s.sendDtmf(id, digits));
  }

  /** The line's calls, queues and agent state with its stored settings; 404 for a line nobody knows. */
  async lineStatus(
    line: string,
  ): Promise<{ status: LineStatus; settings: StoredLineSettings | undefined }> {
    const settings = await this.settings.get(line);
    const status = this.library().lineStatus(line);
    if (!settings && status.calls.length === 0 && status.queues.length === 0) {
      throw new NotFoundException({
        message: `line ${line} is unknown: no active call, no queue membership, no stored settings`,
        code: 'UNKNOWN_LINE',
      });
    }
    return { status, settings };
  }

  async setQueuePause(
    line: string,
    paused: boolean,
    reason?: string,
    queue?: string,
  ): Promise<QueueMembership[]> {
    return this.withLine(line, undefined, (s) => s.setQueuePause(paused, reason, queue));
  }

  private async withLine<T>(
    line: string,
    stored: StoredLineSettings | undefined,
    command: (session: LineSession) => Promise<T>,
  ): Promise<T> {
    const session = this.library().openLine(line, {
      ...(stored?.originateContext ? { originateContext: stored.originateContext } : {}),
      ...(stored?.useBlindTransfer !== undefined
        ? { useBlindTransfer: stored.useBlindTransfer }
        : {}),
    });
    try {
      return await command(session);
    } finally {
      session.close();
    }
  }
}
