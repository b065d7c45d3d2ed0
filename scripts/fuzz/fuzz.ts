/**
 * `npm run fuzz`: fast-check fuzzing of the two parsers a hostile peer feeds, at least 1,000,000
 * inputs each (not part of `npm test`):
 *
 * - `ami-decoder`: AMI-like streams, fragments of AMI syntax, mutations of the recorded Asterisk
 *   traffic and random bytes, each cut at random points; the decoder must never let an exception
 *   out, never hold maxPacketBytes or more, report only AMI_PROTOCOL, and give the same outcome
 *   whole and cut, through a reused read buffer, with and without the WebAssembly scanner; and the
 *   socket's not-AMI rule must classify every packet without throwing.
 * - `client-commands`: command frames (well-formed, mutated, nested, random) through the client
 *   command parser and the parameter readers a session uses (executor, call ids, strings,
 *   connectionParams, ExtensionName): anything thrown must be a GatewayError with a bounded message.
 *
 * Prints, per target, inputs, inputs/s, findings (a shrunk counterexample, or none), heap and peak
 * RSS; exits 1 on a finding. Options: --runs N (per target), --seed N, --target name.
 * Run with a bounded heap (the npm script gives --max-old-space-size=256).
 */
import fc from 'fast-check';
import { parseLineName } from '@app/messaging';
import {
  checkDecoder,
  concat,
  fragmentArb,
  maxArb,
  mutate,
  mutationArb,
  pointsArb,
  streamArb,
  traceBuffers,
} from '../../libs/ami/testing/decoder-properties';
import { GatewayError } from '../../apps/messaging-host/src/gateway/gateway.errors';
import {
  callIdParam,
  commandUIdOf,
  executorCallId,
  getCI,
  parseClientCommand,
  parseJsonObject,
  requireStringParam,
} from '../../apps/messaging-host/src/gateway/protocol/client-protocol';

interface Options {
  runs: number;
  seed: number;
  target?: string;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { runs: 1_000_000, seed: Date.now() % 2 ** 31 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--runs' && Number(v) > 0) o.runs = Number(v);
    else if (k === '--seed' && Number.isInteger(Number(v))) o.seed = Number(v);
    else if (k === '--target' && v) o.target = v;
    else
      throw new Error(
        `fuzz: unknown or bad option ${String(k)} (use --runs N, --seed N, --target name)`,
      );
  }
  return o;
}

// ---- ami-decoder ----

const traces = traceBuffers();

/** One decoder input: which kind, the bytes, the cuts, the packet cap, banner or not. */
const decoderInput = fc.oneof(
  fc.tuple(streamArb, pointsArb, maxArb).map(([s, points, max]) => ({
    bytes: s.bytes,
    points,
    max,
    banner: s.banner,
  })),
  fc
    .tuple(fc.array(fragmentArb, { maxLength: 40 }), pointsArb, maxArb, fc.boolean())
    .map(([frags, points, max, banner]) => ({ bytes: concat(frags), points, max, banner })),
  fc
    .tuple(
      fc.nat({ max: traces.length - 1 }),
      fc.nat(),
      fc.integer({ min: 1, max: 3000 }),
      fc.array(mutationArb, { maxLength: 6 }),
      pointsArb,
      maxArb,
      fc.boolean(),
    )
    .map(([t, start, len, mutations, points, max, banner]) => ({
      bytes: mutate(traces[t]!, banner ? 0 : start, len, mutations),
      points,
      max,
      banner,
    })),
  fc
    .tuple(fc.uint8Array({ maxLength: 600 }), pointsArb, maxArb, fc.boolean())
    .map(([bytes, points, max, banner]) => ({ bytes, points, max, banner })),
);

/** The socket's rule (ami-socket.ts): a packet without Event must be a response, raw lines only in Follows. */
function notAmi(p: {
  keys: readonly string[];
  values: readonly string[];
  rawLineCount: number;
}): boolean {
  const at = (k: string): string | undefined => {
    const i = p.keys.findIndex((x) => x.toLowerCase() === k);
    return i === -1 ? undefined : p.values[i];
  };
  const event = at('event');
  const response = at('response');
  return event === undefined
    ? response === undefined || (p.rawLineCount > 0 && response !== 'Follows')
    : p.rawLineCount > 0;
}

function decoderProperty(input: {
  bytes: Uint8Array;
  points: number[];
  max: number;
  banner: boolean;
}): void {
  const out = checkDecoder(input.bytes, input.points, {
    maxPacketBytes: input.max,
    expectBanner: input.banner,
  });
  for (const s of out.packets) {
    const [keys, values, output] = JSON.parse(s) as [string[], string[], string[]];
    notAmi({ keys, values, rawLineCount: output.length });
  }
}

// ---- client-commands ----

const COMMANDS = [
  'LoadLibrary',
  'OpenConnection',
  'CloseConnection',
  'MakeCall',
  'HoldCall',
  'DropCall',
  'TransferCall',
  'CancelTransfer',
  'SendDtmf',
  'SetMsgUserState',
  'SetWrapUpUserState',
  'QueryActiveCallSnapshot',
];
const jsonish = fc.jsonValue({ maxDepth: 4 });
const paramValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  jsonish.map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '{"id":"1.2"}',
    '{"ExtensionName":1e400}',
    '{"ExtensionName":"SIP/305"}',
    '[]',
    '{',
    '"x"',
  ),
  jsonish,
);
const params = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'AssemblyName',
      'connectionParams',
      'sessionServiceParams',
      'targetAddress',
      'digits',
      'code',
      'reason',
      'consultationCall',
      'currentCall',
      'consultCall',
      'isWrapUpActive',
      '__proto__',
      'constructor',
    ),
    fc.string({ maxLength: 12 }),
  ),
  paramValue,
  { maxKeys: 6 },
);
const commandObject = fc.record(
  {
    commandUId: fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null)),
    command: fc.oneof(fc.constantFrom(...COMMANDS), fc.string({ maxLength: 20 }), fc.integer()),
    libraryInstanceUId: fc.string({ maxLength: 10 }),
    connectionUId: fc.string({ maxLength: 10 }),
    commandExecutorId: fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
    commandExecutorType: fc.string({ maxLength: 10 }),
    commandExecutor: fc.oneof(
      fc.string({ maxLength: 30 }),
      jsonish.map((v) => JSON.stringify(v)),
    ),
    parameters: fc.oneof(
      params,
      params.map((p) => JSON.stringify(p)),
      paramValue,
    ),
  },
  { requiredKeys: [] },
);
const commandText = fc.oneof(
  { weight: 6, arbitrary: commandObject.map((o) => JSON.stringify(o)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        commandObject.map((o) => JSON.stringify(o)),
        fc.nat(),
        fc.string({ maxLength: 8 }),
        fc.nat({ max: 8 }),
      )
      .map(([t, at, ins, del]) => {
        const i = at % (t.length + 1);
        return t.slice(0, i) + ins + t.slice(i + del);
      }),
  },
  {
    weight: 1,
    arbitrary: fc.nat({ max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
);

/** Messages the client sees stay short, whatever it sent. */
const MAX_MESSAGE = 400;

function expectGatewayError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    if (err.message.length > MAX_MESSAGE) {
      throw new Error(`a GatewayError message of ${err.message.length} characters`, { cause: err });
    }
  }
}

function commandProperty(text: string): void {
  commandUIdOf(text);
  let cmd;
  try {
    cmd = parseClientCommand(text);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    if (err.message.length > MAX_MESSAGE) {
      throw new Error(`a GatewayError message of ${err.message.length} characters`, {
        cause: err,
      });
    }
    return;
  }
  expectGatewayError(() => executorCallId(cmd));
  for (const name of ['targetAddress', 'digits', 'code'])
    expectGatewayError(() => requireStringParam(cmd, name));
  for (const name of ['consultationCall', 'currentCall', 'consultCall'])
    expectGatewayError(() => callIdParam(cmd, name));
  expectGatewayError(() => {
    const cp = parseJsonObject(cmd.parameters['connectionParams'] ?? '{}', 'connectionParams');
    parseLineName(getCI(cp, 'ExtensionName'));
  });
}

// ---- the run ----

/** What a run found: inputs tried and, on a failure, its shrunk counterexample. */
interface Outcome {
  numRuns: number;
  failed: boolean;
  counterexample: unknown;
  error: unknown;
  seed: number;
  path: string | null;
}

function outcome<T>(d: fc.RunDetails<T>): Outcome {
  return {
    numRuns: d.numRuns,
    failed: d.failed,
    counterexample: d.counterexample,
    error: d.errorInstance,
    seed: d.seed,
    path: d.counterexamplePath,
  };
}

interface Target {
  name: string;
  run(opts: Options): Outcome;
}

const TARGETS: Target[] = [
  {
    name: 'ami-decoder',
    run: (o) =>
      outcome(
        fc.check(fc.property(decoderInput, decoderProperty), { numRuns: o.runs, seed: o.seed }),
      ),
  },
  {
    name: 'client-commands',
    run: (o) =>
      outcome(
        fc.check(fc.property(commandText, commandProperty), { numRuns: o.runs, seed: o.seed }),
      ),
  },
];

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function main(): void {
  const opts = parseOptions(process.argv.slice(2));
  const targets = TARGETS.filter((t) => !opts.target || t.name === opts.target);
  if (targets.length === 0)
    throw new Error(`fuzz: no target ${opts.target} (${TARGETS.map((t) => t.name).join(', ')})`);
  console.log(
    `fuzz: ${opts.runs.toLocaleString('en-US')} inputs per target, seed ${opts.seed}, node ${process.version}`,
  );
  let findings = 0;
  for (const t of targets) {
    const t0 = process.hrtime.bigint();
    const details = t.run(opts);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const runs = details.numRuns;
    // With --expose-gc (the npm script): the heap that stays, not the garbage of the last runs.
    (globalThis as { gc?: () => void }).gc?.();
    const heap = process.memoryUsage().heapUsed;
    const peak = process.resourceUsage().maxRSS * 1024;
    const found = details.failed ? 1 : 0;
    findings += found;
    console.log(
      `${t.name.padEnd(16)} inputs=${runs.toLocaleString('en-US')} in ${s.toFixed(1)} s: ${Math.round(runs / s).toLocaleString('en-US')} inputs/s; findings=${found}; heap after GC ${mib(heap)}, peak RSS ${mib(peak)}`,
    );
    if (details.failed) {
      console.log(`  counterexample (shrunk): ${fc.stringify(details.counterexample)}`);
      console.log(
        `  error: ${details.error instanceof Error ? details.error.message : String(details.error)}`,
      );
      console.log(
        `  replay: --target ${t.name} --seed ${details.seed} (path ${details.path ?? '?'})`,
      );
    }
  }
  console.log(`RESULT findings=${findings}`);
  process.exitCode = findings > 0 ? 1 : 0;
}

main();
