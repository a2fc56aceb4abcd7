// Live updates: one EventSource on api/events for the whole page. The server pushes
// `overview` (the api/overview body, every ~2 s) and `changed` ({ broker, queue }) after actions.
import { useEffect, useState } from "preact/hooks";
import type { Overview } from "./api";

export interface LiveState {
  overview?: Overview;
  /** Bumped on every `changed` event (and every overview whose counts moved). */
  changes: number;
  lastChanged?: { broker: string; queue: string };
  connected: boolean;
}

let state: LiveState = { changes: 0, connected: false };
let source: EventSource | undefined;
const listeners = new Set<(state: LiveState) => void>();

function set(next: Partial<LiveState>): void {
  state = { ...state, ...next };
  listeners.forEach((listener) => listener(state));
}

function countsKey(overview: Overview | undefined): string {
  if (!overview) return "";
  return overview.queues
    .map((q) => `${q.broker}/${q.queue}:${q.ready},${q.delayed},${q.inFlight},${q.dead}`)
    .join(";");
}

/** Records an overview fetched by a page (before the first pushed one arrives). */
export function setOverview(overview: Overview): void {
  if (state.overview && state.overview.at >= overview.at) return;
  set({ overview });
}

function connect(): void {
  if (source || typeof EventSource === "undefined") return;
  source = new EventSource("api/events");
  source.addEventListener("open", () => set({ connected: true }));
  source.addEventListener("error", () => set({ connected: false }));
  source.addEventListener("overview", (event) => {
    let overview: Overview;
    try {
      overview = JSON.parse((event as MessageEvent<string>).data) as Overview;
    } catch {
      return;
    }
    const moved = countsKey(overview) !== countsKey(state.overview);
    set({ overview, connected: true, changes: moved ? state.changes + 1 : state.changes });
  });
  source.addEventListener("changed", (event) => {
    let changed: { broker: string; queue: string } | undefined;
    try {
      changed = JSON.parse((event as MessageEvent<string>).data) as typeof changed;
    } catch {
      changed = undefined;
    }
    set({ changes: state.changes + 1, lastChanged: changed });
  });
}

export function useLive(): LiveState {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    connect();
    listeners.add(setCurrent);
    setCurrent(state);
    return () => void listeners.delete(setCurrent);
  }, []);
  return current;
}
