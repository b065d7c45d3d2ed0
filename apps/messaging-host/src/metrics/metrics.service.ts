// The one metrics registry of the process (prom-client): every module registers its metrics here
// by injecting MetricsService; names are checked (`messaging_host_*`), labels kept bounded.
import { Injectable } from '@nestjs/common';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';
import { AppConfig } from '../config/app-config';

/** Every metric of the service starts with this. */
export const METRIC_PREFIX = 'messaging_host_';
const NAME_RE = /^messaging_host_[a-z][a-z0-9_]*$/;

/** What a module gives to register a metric (prom-client's configuration without `registers`). */
export type MetricSpec<T extends string, C> = Omit<C, 'registers' | 'labelNames'> & {
  name: string;
  labelNames?: readonly T[];
};

/**
 * The registry /metrics serves. Inject it and register a metric once (e.g. in a constructor):
 *
 * ```ts
 * constructor(metrics: MetricsService) {
 *   this.saved = metrics.counter({ name: 'messaging_host_crm_saves_total',
 *     help: 'Calls saved in the CRM, by result.', labelNames: ['result'] });
 * }
 * ```
 *
 * Asking again for a name already registered returns the same metric (two modules may share one),
 * provided its type matches. Labels must be bounded: never a line, user or call id; use
 * `LabelGuard` for values that come from outside.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  constructor(config: AppConfig) {
    if (config.metrics.enabled) {
      // process_* and nodejs_* under their standard names, as Node dashboards expect them.
      collectDefaultMetrics({ register: this.registry });
    }
  }

  counter<T extends string = never>(spec: MetricSpec<T, CounterConfiguration<T>>): Counter<T> {
    return this.register(spec.name, Counter, () => new Counter<T>(this.config(spec)));
  }

  gauge<T extends string = never>(spec: MetricSpec<T, GaugeConfiguration<T>>): Gauge<T> {
    return this.register(spec.name, Gauge, () => new Gauge<T>(this.config(spec)));
  }

  histogram<T extends string = never>(
    spec: MetricSpec<T, HistogramConfiguration<T>>,
  ): Histogram<T> {
    return this.register(spec.name, Histogram, () => new Histogram<T>(this.config(spec)));
  }

  /** The text format Prometheus scrapes. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private config<T extends string, C>(spec: MetricSpec<T, C>): C & { registers: Registry[] } {
    return {
      ...spec,
      labelNames: [...(spec.labelNames ?? [])],
      registers: [this.registry],
    } as unknown as C & { registers: Registry[] };
  }

  private register<M>(name: string, type: abstract new (...a: never[]) => M, make: () => M): M {
    if (!NAME_RE.test(name)) {
      throw new Error(`metric name '${name}' must match ${NAME_RE.source}`);
    }
    const existing = this.registry.getSingleMetric(name);
    if (existing) {
      if (!(existing instanceof type)) {
        throw new Error(`metric '${name}' is already registered with another type`);
      }
      return existing;
    }
    return make();
  }
}

/**
 * Keeps a label's values bounded: the first `max` distinct values pass, later new ones become
 * `overflow` ("other"), so that a PBX or client sending odd names cannot grow the registry.
 */
export class LabelGuard {
  private readonly seen = new Set<string>();

  constructor(
    readonly max: number,
    readonly overflow = 'other',
  ) {}

  value(v: string): string {
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return this.overflow;
    this.seen.add(v);
    return v;
  }
}

/**
 * A metric's children by one label value, cached (prom-client hashes the labels on every
 * `labels()` call; the hot paths count per AMI packet and per frame).
 */
export class ChildCache<C> {
  private readonly children = new Map<string, C>();

  constructor(
    private readonly make: (value: string) => C,
    private readonly guard: LabelGuard,
  ) {}

  get(value: string): C {
    const cached = this.children.get(value);
    if (cached !== undefined) return cached;
    // Values past the guard's bound share the overflow child and are not remembered one by one.
    const label = this.guard.value(value);
    let c = this.children.get(label);
    if (c === undefined) {
      c = this.make(label);
      this.children.set(label, c);
    }
    return c;
  }
}
