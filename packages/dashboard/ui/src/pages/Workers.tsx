// Workers: each broker's heartbeats / consumers, refreshed with the live overview.
import type { JSX } from "preact";
import { api } from "../api";
import { Status, useLoad } from "../components/common";
import { ago, duration, num, time } from "../format";
import { useLive } from "../live";

export function WorkersPage(): JSX.Element {
  const live = useLive();
  const loaded = useLoad(() => api.workers(), [live.overview?.at ?? 0]);
  const workers = loaded.data?.workers ?? [];
  return (
    <section>
      <h1>Workers</h1>
      <Status loaded={loaded} />
      {loaded.data && (
        <table class="grid-table" data-testid="workers-table">
          <thead>
            <tr>
              <th>Broker</th>
              <th>Worker</th>
              <th>Host</th>
              <th class="n">PID</th>
              <th>Queues</th>
              <th class="n">Concurrency</th>
              <th class="n">In progress</th>
              <th>Uptime</th>
              <th>Last seen</th>
            </tr>
          </thead>
          <tbody>
            {workers.length === 0 && (
              <tr>
                <td colSpan={9} class="muted">
                  No worker is alive.
                </td>
              </tr>
            )}
            {workers.map((w) => (
              <tr key={`${w.broker}/${w.id}`}>
                <td>{w.broker}</td>
                <td class="mono">{w.id}</td>
                <td>{w.host ?? "—"}</td>
                <td class="n">{w.pid ?? "—"}</td>
                <td>{w.queues.join(", ") || "—"}</td>
                <td class="n">{num(w.concurrency)}</td>
                <td class="n">{num(w.inProgress)}</td>
                <td title={time(w.startedAt)}>{w.startedAt ? duration(w.startedAt) : "—"}</td>
                <td title={time(w.lastSeen)}>{ago(w.lastSeen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
