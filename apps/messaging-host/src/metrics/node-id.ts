// Which node this process is, as the metrics, the console and the event stream name it.
import { hostname } from 'node:os';
import type { AppConfig } from '../config/app-config';

/**
 * `cluster.nodeId` when the configuration has one (several nodes), else `<host name>:<pid>`, which
 * tells two processes on one machine apart and stays the same for the life of the process.
 */
export function nodeId(config: AppConfig): string {
  const cluster = (config as unknown as { cluster?: { nodeId?: unknown } }).cluster;
  if (typeof cluster?.nodeId === 'string' && cluster.nodeId.trim() !== '') {
    return cluster.nodeId.trim();
  }
  return `${hostname()}:${process.pid}`;
}
