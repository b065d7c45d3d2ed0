/** Whether a component can serve now, and if not, why (shown by /health/ready). */
export interface Readiness {
  ready: boolean;
  /** Why it is not ready (or a short note when it is). Never a secret. */
  reason?: string;
}

/** Implemented by every messaging library: the load balancer routes only to nodes that are ready. */
export interface ReadinessReporter {
  readiness(): Readiness;
}
