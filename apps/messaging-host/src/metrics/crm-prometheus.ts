// The CRM module's counters (crm/crm-metrics.ts: saves, dropped and given-up changes, outbox depth,
// LogInMsgServer answers) as Prometheus metrics, read from its snapshot when Prometheus scrapes.
import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Counter, Gauge } from 'prom-client';
import { CrmMetrics, type CrmMetricsSnapshot } from '../crm/crm-metrics';
import { MetricsService } from './metrics.service';

@Injectable()
export class CrmPrometheus {
  constructor(
    metrics: MetricsService,
    private readonly moduleRef: ModuleRef,
  ) {
    // A counter's value is the CRM module's own count: set at each scrape (reset, then inc).
    const counter = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      read: (s: CrmMetricsSnapshot) => [Partial<Record<L, string>>, number][],
    ): void => {
      const c: Counter<L> = metrics.counter({
        name,
        help,
        labelNames,
        collect: () => {
          const s = this.snapshot();
          c.reset();
          for (const [labels, v] of s ? read(s) : []) c.inc(labels, v);
        },
      });
    };
    const gauge = (name: string, help: string, read: (s: CrmMetricsSnapshot) => number): void => {
      const g: Gauge = metrics.gauge({
        name,
        help,
        collect: () => {
          const s = this.snapshot();
          g.set(s ? read(s) : 0);
        },
      });
    };
    counter(
      'messaging_host_crm_saves_total',
      'Calls saved in the CRM (UpdateCall requests), by result: ok, error.',
      ['result'],
      (s) => [
        [{ result: 'ok' }, s.saves.ok],
        [{ result: 'error' }, s.saves.error],
      ],
    );
    counter(
      'messaging_host_crm_changes_dropped_total',
      'Call changes dropped because the outbox was full (crm.outbox.maxRecords).',
      [],
      (s) => [[{}, s.dropped]],
    );
    counter(
      'messaging_host_crm_changes_given_up_total',
      'Call changes given up: older than crm.outbox.maxAgeMs, or no allowed CRM address.',
      [],
      (s) => [[{}, s.givenUp]],
    );
    counter(
      'messaging_host_crm_logins_total',
      'LogInMsgServer answers (security.mode crm; cache hits not counted), by result.',
      ['result'],
      (s) => [
        [{ result: 'allowed' }, s.logins.allowed],
        [{ result: 'refused' }, s.logins.refused],
        [{ result: 'error' }, s.logins.error],
      ],
    );
    gauge(
      'messaging_host_crm_outbox_depth',
      "Call changes waiting in this node's outbox for the CRM.",
      (s) => s.outboxDepth,
    );
    gauge(
      'messaging_host_crm_calls',
      'Calls this node is saving in the CRM (active, or with changes waiting).',
      (s) => s.calls,
    );
    gauge(
      'messaging_host_crm_requests_in_flight',
      'Requests to the CRM in flight.',
      (s) => s.inFlight,
    );
  }

  private snapshot(): CrmMetricsSnapshot | undefined {
    try {
      return this.moduleRef.get(CrmMetrics, { strict: false }).snapshot();
    } catch {
      return undefined; // an app without the CRM module (tests of one part)
    }
  }
}
