// Which node this process is, as the metrics, the console and the event stream name it.
import type { AppConfig } from '../config/app-config';

/** `cluster.nodeId`, or `<host name>-<pid>` when it is empty (the cluster's own rule). */
export function nodeId(config: AppConfig): string {
  return config.cluster.effectiveNodeId();
}
