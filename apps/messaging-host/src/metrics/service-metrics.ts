// Metrics of the service's state, read at scrape time: who it is (info), the calls it tracks, the
// readiness of the messaging library and of the settings store; and HTTP requests by route.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { CallState, MessagingRegistry } from '@app/messaging';
import { AppConfig } from '../config/app-config';
import { LineSettingsStore } from '../settings/line-settings.store';
import type { Gauge } from 'prom-client';
import { MetricsService } from './metrics.service';
import { nodeId } from './node-id';

/** The package version (package.json two levels above apps/ in source and in dist). */
export function serviceVersion(): string {
  for (const up of ['../../../..', '../../../../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'messaging-host' && pkg.version) return pkg.version;
    } catch {
      continue;
    }
  }
  return 'unknown';
}

/** Label values of call states (CallState names in lower case). */
const STATES = Object.entries(CallState)
  .filter(([, v]) => typeof v === 'number')
  .map(([k, v]) => [v as number, k.toLowerCase()] as const);

@Injectable()
export class ServiceMetrics {
  readonly node: string;
  readonly version = serviceVersion();

  constructor(
    metrics: MetricsService,
    config: AppConfig,
    private readonly registry: MessagingRegistry,
    private readonly store: LineSettingsStore,
  ) {
    this.node = nodeId(config);
    const info: Gauge<'version' | 'node' | 'library'> = metrics.gauge({
      name: 'messaging_host_info',
      help: 'Always 1; the labels tell the version, the node and the active messaging library.',
      labelNames: ['version', 'node', 'library'],
      collect: () => {
        info.reset();
        info.set({ version: this.version, node: this.node, library: this.libraryName() }, 1);
      },
    });
    const calls: Gauge<'state'> = metrics.gauge({
      name: 'messaging_host_calls',
      help: "Active calls as the lines see them (a call between two users' lines counts twice), by state.",
      labelNames: ['state'],
      collect: () => {
        const counts = new Map<number, number>(STATES.map(([v]) => [v, 0]));
        for (const call of this.activeCalls()) {
          counts.set(call.state, (counts.get(call.state) ?? 0) + 1);
        }
        for (const [v, name] of STATES) calls.set({ state: name }, counts.get(v) ?? 0);
      },
    });
    const ready: Gauge = metrics.gauge({
      name: 'messaging_host_messaging_ready',
      help: '1 while the active messaging library can serve (logged in to Asterisk and resynced), else 0.',
      collect: () => {
        ready.set(this.libraryReady() ? 1 : 0);
      },
    });
    const storeUp: Gauge<'driver'> = metrics.gauge({
      name: 'messaging_host_settings_store_up',
      help: '1 while the per-line settings store (file or Redis, label driver) can be used, else 0.',
      labelNames: ['driver'],
      collect: () => {
        storeUp.set({ driver: config.storage.driver }, this.store.readiness().ready ? 1 : 0);
      },
    });
  }

  private libraryName(): string {
    try {
      return this.registry.activeName();
    } catch {
      return 'none';
    }
  }

  private libraryReady(): boolean {
    try {
      return this.registry.active().readiness().ready;
    } catch {
      return false;
    }
  }

  private activeCalls(): { state: number }[] {
    try {
      const lib = this.registry.active();
      return lib.busyLines().flatMap((line) => lib.activeCalls(line));
    } catch {
      return [];
    }
  }
}
