// The simulator's in-memory MAAS: plain JSON-able records plus id counters and
// API credentials. Handlers change records in place and call changed(), which
// the persistence layer listens to.
import type { SimDomain, SimMachine, SimPool, SimTag, SimUser, SimZone, SimulatorState } from "./types.ts";

export interface Credential {
  username: string;
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
}

export interface StoreData {
  state: SimulatorState;
  counters: Record<string, number>;
  credentials: Credential[];
}

export class Store {
  private listeners: Array<() => void> = [];

  constructor(readonly data: StoreData) {}

  get state(): SimulatorState {
    return this.data.state;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Call after every mutation so the state file follows. */
  changed(): void {
    for (const listener of this.listeners) listener();
  }

  nextId(kind: string, first = 1): number {
    const id = this.data.counters[kind] ?? first;
    this.data.counters[kind] = id + 1;
    return id;
  }

  machine(systemId: string): SimMachine | undefined {
    return this.state.machines.find((m) => m.systemId === systemId);
  }

  zoneById(id: number): SimZone | undefined {
    return this.state.zones.find((z) => z.id === id);
  }

  zoneByName(name: string): SimZone | undefined {
    return this.state.zones.find((z) => z.name === name);
  }

  poolById(id: number): SimPool | undefined {
    return this.state.pools.find((p) => p.id === id);
  }

  poolByName(name: string): SimPool | undefined {
    return this.state.pools.find((p) => p.name === name);
  }

  domainById(id: number): SimDomain | undefined {
    return this.state.domains.find((d) => d.id === id);
  }

  domainByName(name: string): SimDomain | undefined {
    return this.state.domains.find((d) => d.name === name);
  }

  defaultDomain(): SimDomain {
    const domain = this.state.domains.find((d) => d.isDefault) ?? this.state.domains[0];
    if (domain === undefined) throw new Error("the simulator has no domain");
    return domain;
  }

  tag(name: string): SimTag | undefined {
    return this.state.tags.find((t) => t.name === name);
  }

  user(username: string): SimUser | undefined {
    return this.state.users.find((u) => u.username === username);
  }

  credentialByConsumer(consumerKey: string): Credential | undefined {
    return this.data.credentials.find((c) => c.consumerKey === consumerKey);
  }

  credentialByToken(tokenKey: string): Credential | undefined {
    return this.data.credentials.find((c) => c.tokenKey === tokenKey);
  }

  /** A deep copy for callers outside the simulator. */
  snapshot(): SimulatorState {
    return structuredClone(this.state);
  }
}

export function fqdnOf(store: Store, machine: SimMachine): string {
  const domain = store.domainById(machine.domainId);
  return domain === undefined ? machine.hostname : `${machine.hostname}.${domain.name}`;
}
