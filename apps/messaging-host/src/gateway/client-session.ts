import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import {
  MessagingCommandError,
  MsgErrorType,
  type Call,
  type LibraryCapabilities,
  type LineSession,
  type MessagingLibrary,
  type MessagingRegistry,
} from '@app/messaging';
import type { LineSettingsStore, StoredLineSettings } from '../settings/line-settings.store';
import {
  LineClaimRefused,
  LineOwnershipErrorCode,
  type LineLease,
  type LineOwnership,
} from '../cluster/line-ownership';
import { GatewayError, GatewayErrorCode } from './gateway.errors';
import type { GatewayObserver } from './gateway-observer';
import type { LineBinding, LineHub, LineMember } from './line-hub';
import type { OpenConnectionVerifier } from './line-observer';
import {
  callIdParam,
  commandUIdOf,
  events,
  executorCallId,
  getCI,
  looseBoolean,
  parseClientCommand,
  parseJsonObject,
  requireStringParam,
  type ClientCommand,
  type ServerEvent,
} from './protocol/client-protocol';
import { SecurityMode } from '../config/app-config';
import type { GatewaySecurity } from './security/gateway-security';

/** What a session needs from the gateway (one instance shared by every socket). */
export interface GatewayContext {
  registry: MessagingRegistry;
  hub: LineHub;
  /** Per-line settings (the settings module binds the configured driver). */
  store: LineSettingsStore;
  /** Who may hold a line (leases in Redis in a cluster): asked before a socket is bound. */
  ownership: LineOwnership;
  security: GatewaySecurity;
  /** A further check of OpenConnection (security.mode crm), when a module provides one. */
  verifier?: OpenConnectionVerifier;
  logger: Logger;
  metrics?: GatewayObserver;
}

/** The socket side of a session. */
export interface SessionTransport {
  /** Sends one event envelope stamped with `connectionUId`. */
  send(event: ServerEvent, connectionUId: string): void;
  /** Closes the socket after what was sent (errors 2 and 5, event 14). */
  closeSoon(reason: string): void;
  /** The browser's Origin header, if any. */
  readonly origin: string | undefined;
  /** `?token=` of the socket URL (or of the negotiate). */
  readonly queryToken: string | undefined;
  /** For log lines. */
  readonly peer: string;
}

/** Commands of PROTOCOL.md that only a library with the matching capability carries out. */
const CAPABILITY: Readonly<Record<string, keyof LibraryCapabilities>> = {
  AnswerCall: 'answerCall',
  HoldCall: 'hold',
  BlindTransferCall: 'blindTransfer',
  MakeConsultCall: 'consultTransfer',
  TransferCall: 'consultTransfer',
  CancelTransfer: 'consultTransfer',
  SendDtmf: 'dtmf',
  SetMsgUserState: 'agentState',
  QueryMsgUserState: 'agentState',
  SetWrapUpUserState: 'agentState',
  SetDnd: 'dnd',
};

/** Protocol commands no library here carries out: error 4. */
const NOT_IMPLEMENTED = new Set([
  'Hookup',
  'SetupTransferCall',
  'LibrarySpecificService',
  'SetLogFilePath',
  'ProcessLogs',
]);

/** Commands that change what the socket is bound to (run in order, see `barrier`). */
const SESSION_COMMANDS = new Set(['LoadLibrary', 'OpenConnection', 'CloseConnection']);

const LINE_COMMANDS = new Set([
  'QueryActiveCallSnapshot',
  'QueryLineState',
  'MakeCall',
  'AnswerCall',
  'DropCall',
  'HoldCall',
  'BlindTransferCall',
  'MakeConsultCall',
  'TransferCall',
  'CancelTransfer',
  'SendDtmf',
  'SetMsgUserState',
  'QueryMsgUserState',
  'SetWrapUpUserState',
  'SetDnd',
]);

/** A command name as a metric label: the protocol's names, anything else 'unknown' (bounded). */
export function commandLabel(command: string): string {
  return SESSION_COMMANDS.has(command) || LINE_COMMANDS.has(command) || NOT_IMPLEMENTED.has(command)
    ? command
    : 'unknown';
}

/** A failed command's result as a metric label: its error code (a fixed set), else 'internal'. */
function resultLabel(err: unknown): string {
  if (err instanceof GatewayError || err instanceof MessagingCommandError) return err.code;
  return 'internal';
}

interface LibraryChoice {
  name: string;
  library: MessagingLibrary;
}

/**
 * One client socket's session (PROTOCOL.md "Session"): LoadLibrary, OpenConnection, the line
 * commands, CloseConnection. Every refusal is an ERROR event; only errors 2 and 5 close the socket.
 */
export class ClientSession implements LineMember {
  private libraryChoice: LibraryChoice | undefined;
  private libraryInstanceUId = '';
  private connectionUId = '';
  private binding: LineBinding | undefined;
  private lease: LineLease | undefined;
  private debug = false;
  private closed = false;
  /** Bumped by every OpenConnection/CloseConnection: a stale asynchronous open is dropped. */
  private generation = 0;
  /**
   * LoadLibrary, OpenConnection and CloseConnection run one after the other, and a command
   * that follows one of them waits for it (a snapshot right after OpenConnection sees the line).
   * Line commands run concurrently otherwise: a MakeCall waiting for its originate does not hold
   * a HoldCall back.
   */
  private barrier: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly transport: SessionTransport,
  ) {}

  get debugMode(): boolean {
    return this.debug;
  }

  /** The line this socket is bound to, if any. */
  get line(): string | undefined {
    return this.binding?.line;
  }

  deliver(event: ServerEvent): void {
    if (!this.closed) this.transport.send(event, this.connectionUId);
  }

  /** An ERROR event for a refusal that happened before the command could be read (size, framing). */
  refuse(error: GatewayError, frameText = ''): void {
    this.sendError(error, '', commandUIdOf(frameText));
  }

  /** Handles one command frame's text. Never throws; refusals become ERROR events. */
  async handle(text: string): Promise<void> {
    let cmd: ClientCommand;
    try {
      cmd = parseClientCommand(text);
    } catch (err) {
      this.fail(err, '', commandUIdOf(text));
      return;
    }
    const run = async (): Promise<void> => {
      try {
        await this.dispatch(cmd);
        this.ctx.metrics?.commandDone(commandLabel(cmd.command), 'ok');
      } catch (err) {
        this.ctx.metrics?.commandDone(commandLabel(cmd.command), resultLabel(err));
        this.fail(err, cmd.command, cmd.commandUId);
      }
    };
    if (SESSION_COMMANDS.has(cmd.command)) {
      const next = this.barrier.then(run);
      this.barrier = next;
      return next;
    }
    await this.barrier;
    return run();
  }

  /** The socket is gone: leave the line. */
  dispose(): void {
    this.closed = true;
    this.generation++;
    this.unbind();
  }

  private async dispatch(cmd: ClientCommand): Promise<void> {
    switch (cmd.command) {
      case 'LoadLibrary':
        return this.loadLibrary(cmd);
      case 'OpenConnection':
        return this.openConnection(cmd);
      case 'CloseConnection':
        this.generation++;
        this.unbind();
        return;
    }
    if (!LINE_COMMANDS.has(cmd.command) && !NOT_IMPLEMENTED.has(cmd.command)) {
      throw new GatewayError(
        GatewayErrorCode.UnknownCommand,
        MsgErrorType.COMMAND,
        `unknown command '${cmd.command.slice(0, 64)}'`,
      );
    }
    const binding = this.binding;
    if (!binding) {
      throw new GatewayError(
        GatewayErrorCode.NotConnected,
        MsgErrorType.COMMAND,
        `${cmd.command} before OpenConnection: open a line first`,
      );
    }
    const capability = CAPABILITY[cmd.command];
    const library = this.libraryChoice?.library;
    if (
      NOT_IMPLEMENTED.has(cmd.command) ||
      (capability && library && !library.capabilities()[capability])
    ) {
      throw new GatewayError(
        GatewayErrorCode.NotImplemented,
        MsgErrorType.COMMAND_NOT_IMPLEMENTED,
        `${cmd.command} is not supported by the library '${binding.libraryName}'`,
      );
    }
    await this.lineCommand(cmd, binding.session);
  }

  private loadLibrary(cmd: ClientCommand): void {
    const raw = cmd.parameters['AssemblyName'];
    const name = typeof raw === 'string' ? raw.trim() : '';
    let choice: LibraryChoice | undefined;
    if (name === '') {
      throw new GatewayError(
        GatewayErrorCode.MissingField,
        MsgErrorType.LOAD_LIBRARY,
        'LoadLibrary needs the parameter "AssemblyName"',
      );
    }
    const library = this.ctx.registry.resolve(name);
    if (library) choice = { name: this.ctx.registry.nameOf(name) ?? name, library };
    if (!choice) {
      const known = this.ctx.registry
        .list()
        .map((l) => l.name)
        .join(', ');
      throw new GatewayError(
        GatewayErrorCode.UnknownLibrary,
        MsgErrorType.LOAD_LIBRARY,
        `unknown messaging library '${name.slice(0, 200)}' (known: ${known})`,
      );
    }
    // A reconnecting client starts over: drop what this socket had.
    this.generation++;
    this.unbind();
    this.libraryChoice = choice;
    this.libraryInstanceUId = randomUUID();
    this.deliverReply(events.libraryInitialized(this.libraryInstanceUId, cmd.commandUId));
  }

  private async openConnection(cmd: ClientCommand): Promise<void> {
    const openError = (code: GatewayErrorCode | string, message: string): GatewayError =>
      new GatewayError(code, MsgErrorType.OPEN_CONNECTION, message, true);
    const reparse = (name: string): Record<string, unknown> => {
      const v = cmd.parameters[name];
      if (v === undefined || v === null || v === '') return {};
      try {
        return parseJsonObject(v, name);
      } catch (err) {
        throw openError(GatewayErrorCode.BadParameter, (err as Error).message);
      }
    };
    const connectionParams = reparse('connectionParams');
    const serviceParams = reparse('sessionServiceParams');
    const extension = getCI(connectionParams, 'ExtensionName');
    const line =
      typeof extension === 'number'
        ? String(extension)
        : typeof extension === 'string'
          ? extension.trim()
          : '';
    if (!line) {
      throw openError(
        GatewayErrorCode.MissingField,
        'OpenConnection needs connectionParams.ExtensionName (the line)',
      );
    }
    if (line.length > 80 || /[\s/\\;,]/.test(line)) {
      throw openError(
        GatewayErrorCode.BadParameter,
        'connectionParams.ExtensionName is not a line name',
      );
    }
    const userRaw = getCI(serviceParams, 'UserUId');
    const user = typeof userRaw === 'string' ? userRaw.trim() : '';
    const serviceUrl = getCI(serviceParams, 'ServiceUrl');
    const paramsToken = getCI(serviceParams, 'Token');

    // A new OpenConnection replaces the previous binding of this socket.
    const generation = ++this.generation;
    this.unbind();

    const refusal = this.ctx.security.checkOpen({
      origin: this.transport.origin,
      queryToken: this.transport.queryToken,
      paramsToken: typeof paramsToken === 'string' ? paramsToken : undefined,
      serviceUrl: typeof serviceUrl === 'string' ? serviceUrl : undefined,
      user,
      line,
    });
    if (refusal) {
      this.ctx.logger.warn(
        `OpenConnection of line ${line} from ${this.transport.peer} refused: ${refusal}`,
      );
      throw openError(GatewayErrorCode.Forbidden, refusal);
    }
    if (this.ctx.security.mode === SecurityMode.Crm) {
      const denied = this.ctx.verifier
        ? await this.ctx.verifier.verify({
            line,
            userUId: user,
            serviceUrl: typeof serviceUrl === 'string' ? serviceUrl : undefined,
            peer: this.transport.peer,
          })
        : {
            errorType: MsgErrorType.OPEN_CONNECTION,
            code: GatewayErrorCode.Forbidden,
            message: 'security.mode crm: no CRM verifier is configured in this server',
          };
      if (generation !== this.generation || this.closed) return;
      if (denied) throw new GatewayError(denied.code, denied.errorType, denied.message, true);
    }

    const stored = await this.storedSettings(line);
    if (generation !== this.generation || this.closed) return;

    const disabled =
      looseBoolean(getCI(connectionParams, 'disableCallCentre')) === true ||
      stored?.disableCallCentre === true;
    if (disabled) {
      throw new GatewayError(
        GatewayErrorCode.CallCentreDisabled,
        MsgErrorType.CALL_CENTRE_NOT_AVAILABLE,
        `the call centre is disabled for line ${line}`,
        true,
      );
    }
    if (stored?.userUId && stored.userUId.trim().toLowerCase() !== user.toLowerCase()) {
      throw openError(GatewayErrorCode.LineBusy, `line ${line} is assigned to another user`);
    }
    const choice = this.libraryChoice ?? {
      name: this.ctx.registry.activeName(),
      library: this.ctx.registry.active(),
    };
    this.libraryChoice = choice;
    // Stored settings (set by an administrator over REST) win over the client's connectionParams.
    this.debug = stored?.debugMode ?? looseBoolean(getCI(connectionParams, 'debugMode')) ?? false;
    const useBlindTransfer =
      stored?.useBlindTransfer ?? looseBoolean(getCI(connectionParams, 'useBlindTransfer'));
    const settings = {
      ...(stored?.originateContext ? { originateContext: stored.originateContext } : {}),
      ...(useBlindTransfer !== undefined ? { useBlindTransfer } : {}),
    };
    let lease: LineLease;
    try {
      lease = await this.ctx.ownership.claim(line, user);
    } catch (err) {
      if (err instanceof LineClaimRefused) {
        this.ctx.logger.warn(
          `OpenConnection of line ${line} from ${this.transport.peer} refused: ${err.message}`,
        );
        throw openError(err.code, err.message);
      }
      throw err;
    }
    if (generation !== this.generation || this.closed) {
      lease.release();
      return;
    }
    try {
      const contact = getCI(serviceParams, 'UserContactUId');
      this.binding = this.ctx.hub.join(choice.library, choice.name, line, user, settings, this, {
        ...(typeof contact === 'string' && contact.trim()
          ? { userContactUId: contact.trim() }
          : {}),
        ...(typeof serviceUrl === 'string' && serviceUrl.trim()
          ? { serviceUrl: serviceUrl.trim() }
          : {}),
      });
    } catch (err) {
      lease.release();
      if (err instanceof MessagingCommandError) {
        throw openError(GatewayErrorCode.BadParameter, err.message);
      }
      throw err;
    }
    this.lease = lease;
    lease.onLost((reason) => this.leaseLost(generation, reason));
    this.connectionUId = randomUUID();
    this.ctx.logger.log(
      `line ${line} opened by ${this.transport.peer}${this.debug ? ' (debug mode)' : ''}`,
    );
    this.deliverReply(events.connectionCreated(this.connectionUId, cmd.commandUId));
  }

  private async storedSettings(line: string): Promise<StoredLineSettings | undefined> {
    try {
      return await this.ctx.store.get(line);
    } catch (err) {
      // The client's own connectionParams still apply; the store's outage is logged, not hidden.
      this.ctx.logger.warn(
        `line ${line}: per-line settings unavailable, using the client's connectionParams only: ${err instanceof Error ? err.message : String(err)}`,
      );
      return undefined;
    }
  }

  private async lineCommand(cmd: ClientCommand, session: LineSession): Promise<void> {
    const reply = (ev: ServerEvent): void => this.deliverReply(ev);
    switch (cmd.command) {
      case 'QueryActiveCallSnapshot': {
        const seen = (c: Call): Call => this.ctx.hub.decorate(session.line, c);
        const current = session.currentCall();
        return reply(
          events.snapshot(
            session.activeCalls().map(seen),
            current ? seen(current) : null,
            cmd.commandUId,
          ),
        );
      }
      case 'QueryLineState':
        return reply(events.lineState(session.lineFeatures(), undefined, cmd.commandUId));
      case 'MakeCall':
        await session.makeCall(requireStringParam(cmd, 'targetAddress'));
        return;
      case 'AnswerCall':
        return session.answerCall(executorCallId(cmd));
      case 'DropCall':
        return session.dropCall(executorCallId(cmd));
      case 'HoldCall':
        await session.holdCall(executorCallId(cmd));
        return;
      case 'BlindTransferCall':
        return session.blindTransferCall(
          executorCallId(cmd),
          requireStringParam(cmd, 'targetAddress'),
        );
      case 'MakeConsultCall':
        await session.makeConsultCall(
          executorCallId(cmd),
          requireStringParam(cmd, 'targetAddress'),
        );
        return;
      case 'TransferCall':
        return session.transferCall(executorCallId(cmd), callIdParam(cmd, 'consultationCall'));
      case 'CancelTransfer':
        return session.cancelTransfer(
          callIdParam(cmd, 'currentCall'),
          callIdParam(cmd, 'consultCall'),
        );
      case 'SendDtmf':
        return session.sendDtmf(executorCallId(cmd), requireStringParam(cmd, 'digits'));
      case 'SetMsgUserState': {
        const reason = cmd.parameters['reason'];
        const state = await session.setAgentState(
          requireStringParam(cmd, 'code'),
          typeof reason === 'string' && reason ? reason : undefined,
        );
        return reply(events.agentState(state.code, cmd.commandUId));
      }
      case 'QueryMsgUserState':
        return reply(events.agentState(session.agentState().code, cmd.commandUId));
      case 'SetWrapUpUserState': {
        const active = looseBoolean(cmd.parameters['isWrapUpActive']);
        if (active === undefined) {
          throw new GatewayError(
            GatewayErrorCode.MissingField,
            MsgErrorType.COMMAND,
            'SetWrapUpUserState needs the parameter "isWrapUpActive" (true or false)',
          );
        }
        const state = await session.setWrapUpState(active);
        return reply(events.agentState(state.code, cmd.commandUId));
      }
      default:
        throw new GatewayError(
          GatewayErrorCode.NotImplemented,
          MsgErrorType.COMMAND_NOT_IMPLEMENTED,
          `${cmd.command} is not supported`,
        );
    }
  }

  private unbind(): void {
    const b = this.binding;
    this.binding = undefined;
    this.lease?.release();
    this.lease = undefined;
    this.connectionUId = '';
    if (b) this.ctx.hub.leave(b, this);
  }

  /** Another user took the line while this node's lease had lapsed: error 2, then close. */
  private leaseLost(generation: number, reason: string): void {
    if (generation !== this.generation || this.closed) return;
    this.lease = undefined;
    this.generation++;
    this.fail(
      new GatewayError(
        LineOwnershipErrorCode.LeaseLost,
        MsgErrorType.OPEN_CONNECTION,
        reason,
        true,
      ),
      'OpenConnection',
      '',
    );
    this.unbind();
  }

  private deliverReply(ev: ServerEvent): void {
    if (!this.closed) this.transport.send(ev, this.connectionUId);
  }

  private fail(err: unknown, source: string, commandUId: string): void {
    if (err instanceof GatewayError) {
      this.sendError(err, source, commandUId);
      if (err.closeAfter) this.transport.closeSoon(err.message);
      return;
    }
    if (err instanceof MessagingCommandError) {
      const data = err.detail ? `${err.message}: ${err.detail}` : err.message;
      this.deliverReply(events.error(err.errorType, err.code, data, source, commandUId));
      return;
    }
    this.ctx.logger.error(
      `${source || 'a command'} from ${this.transport.peer} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    this.deliverReply(
      events.error(
        MsgErrorType.GENERAL,
        GatewayErrorCode.Internal,
        `${source || 'the command'} failed inside the server`,
        source,
        commandUId,
      ),
    );
  }

  private sendError(err: GatewayError, source: string, commandUId: string): void {
    this.deliverReply(events.error(err.errorType, err.code, err.message, source, commandUId));
  }
}
