// The seam between a messaging library and the deployment it runs in (issue 11): what a library
// asks before a side effect on a line that must happen once in the whole cluster, and where the
// agent state of the lines lives. Libraries inject these abstract classes (optionally); the app
// binds them (cluster: the line's lease holder, Redis); without a binding a library acts alone.

/**
 * "May this node act on line X now?": auto pause/unpause on call start/end, agent state -> queue
 * pause, taking a parked call back on park timeout. In a cluster, true on exactly one node (the
 * holder of the line's lease; no lease: the lowest live node id); on a single node, always true.
 */
export abstract class LineActionGate {
  abstract mayAct(line: string): Promise<boolean>;
}

/** The agent (queue) state of a line as the library keeps it. */
export interface SharedAgentState {
  code: string;
  reason?: string;
  wrapUp: boolean;
  /** The line was paused because a call connected (autoPauseOnCommutationStart). */
  autoPaused: boolean;
}

/**
 * Where the agent state of the lines lives: this process on a single node, Redis in a cluster
 * (so that the node that acts on a line after another knows the operator chose "Away").
 * Reads are synchronous (a cache kept current); writes resolve once shared.
 */
export abstract class AgentStateStore {
  /** The line's state, or undefined when none was ever set (Active). */
  abstract get(line: string): SharedAgentState | undefined;
  abstract set(line: string, state: SharedAgentState): Promise<void>;
  /** Lines that have a state. */
  abstract lines(): string[];
}

/** A single node: every side effect is this node's. */
export class SingleNodeActionGate extends LineActionGate {
  async mayAct(): Promise<boolean> {
    return true;
  }
}

/** A single node: agent states in a map. */
export class MemoryAgentStateStore extends AgentStateStore {
  private readonly states = new Map<string, SharedAgentState>();

  get(line: string): SharedAgentState | undefined {
    const s = this.states.get(line);
    return s ? { ...s } : undefined;
  }

  async set(line: string, state: SharedAgentState): Promise<void> {
    this.states.set(line, { ...state });
  }

  lines(): string[] {
    return [...this.states.keys()];
  }
}
