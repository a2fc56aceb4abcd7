// Schedules (when a scheduler is configured): next run, last outcome, pause / resume.
import type { JSX } from "preact";
import { api } from "../api";
import { ActionButton, Status, useLoad } from "../components/common";
import { ago, time } from "../format";
import { useLive } from "../live";
import { getSession } from "../session";

function every(ms: number): string {
  if (ms % 3_600_000 === 0) return `every ${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `every ${ms / 60_000} min`;
  if (ms % 1000 === 0) return `every ${ms / 1000} s`;
  return `every ${ms} ms`;
}

export function SchedulesPage(): JSX.Element {
  const session = getSession();
  const live = useLive();
  const loaded = useLoad(() => api.schedules(), [live.changes]);
  const schedules = loaded.data?.schedules ?? [];
  return (
    <section>
      <h1>Schedules</h1>
      <Status loaded={loaded} />
      {loaded.data && (
        <table class="grid-table" data-testid="schedules-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>When</th>
              <th>Actor</th>
              <th>State</th>
              <th>Next run</th>
              <th>Last run</th>
              <th>Last outcome</th>
              {!session.readOnly && <th />}
            </tr>
          </thead>
          <tbody>
            {schedules.length === 0 && (
              <tr>
                <td colSpan={8} class="muted">
                  No schedules.
                </td>
              </tr>
            )}
            {schedules.map((s) => (
              <tr key={s.name} data-schedule={s.name}>
                <td>{s.name}</td>
                <td class="mono">
                  {s.cron ?? (s.everyMs !== undefined ? every(s.everyMs) : "—")}
                  {s.tz ? ` (${s.tz})` : ""}
                </td>
                <td>{s.actor}</td>
                <td>
                  <span class={`badge ${s.paused ? "paused" : s.enabled ? "ready" : "dead"}`}>
                    {s.paused ? "paused" : s.enabled ? "active" : "disabled"}
                  </span>
                </td>
                <td title={time(s.nextRun)}>{ago(s.nextRun)}</td>
                <td title={time(s.lastRun)}>{ago(s.lastRun)}</td>
                <td>{s.lastOutcome ?? "—"}</td>
                {!session.readOnly && (
                  <td>
                    <ActionButton
                      label={s.paused ? "Resume" : "Pause"}
                      run={async () => {
                        await api.schedule(s.name, s.paused ? "resume" : "pause");
                        loaded.reload();
                      }}
                    />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
