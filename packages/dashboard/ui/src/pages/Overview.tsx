// Overview: every queue's counts, processed/failed per minute, workers alive — pushed live.
import type { JSX } from "preact";
import { useEffect } from "preact/hooks";
import { api, seg } from "../api";
import { RateChart } from "../components/Chart";
import { Status, useLoad } from "../components/common";
import { num, time } from "../format";
import { setOverview, useLive } from "../live";
import { Link, href } from "../router";

export function OverviewPage(): JSX.Element {
  const live = useLive();
  const loaded = useLoad(() => api.overview(), []);
  useEffect(() => {
    if (loaded.data) setOverview(loaded.data);
  }, [loaded.data]);
  const overview = live.overview ?? loaded.data;
  if (!overview) return <Status loaded={loaded} />;
  const queues = [...overview.queues].sort(
    (a, b) => a.broker.localeCompare(b.broker) || a.queue.localeCompare(b.queue),
  );
  return (
    <section>
      <h1>Overview</h1>
      <div class="cards">
        <div class="card">
          <span class="label">Workers alive</span>
          <span class="value" data-testid="workers-alive">
            {num(overview.workers.alive)}
          </span>
        </div>
        <div class="card">
          <span class="label">Queues</span>
          <span class="value">{num(queues.length)}</span>
        </div>
        <div class="card">
          <span class="label">Dead letters</span>
          <span class="value">{num(queues.reduce((sum, q) => sum + q.dead, 0))}</span>
        </div>
        <div class="card">
          <span class="label">Updated</span>
          <span class="value small" data-testid="overview-at">
            {time(overview.at)}
          </span>
        </div>
      </div>
      <table class="grid-table" data-testid="queue-table">
        <thead>
          <tr>
            <th>Broker</th>
            <th>Queue</th>
            <th class="n">Ready</th>
            <th class="n">Delayed</th>
            <th class="n">In flight</th>
            <th class="n">Dead</th>
          </tr>
        </thead>
        <tbody>
          {queues.length === 0 && (
            <tr>
              <td colSpan={6} class="muted">
                No queues yet.
              </td>
            </tr>
          )}
          {queues.map((q) => {
            const base = `queues/${seg(q.broker)}/${seg(q.queue)}`;
            return (
              <tr key={`${q.broker}/${q.queue}`} data-queue={q.queue} data-broker={q.broker}>
                <td>{q.broker}</td>
                <td>
                  <Link href={base}>{q.queue}</Link>
                </td>
                <td class="n" data-count="ready">
                  <Link href={href(base, { tab: "ready" })}>{num(q.ready)}</Link>
                </td>
                <td class="n" data-count="delayed">
                  <Link href={href(base, { tab: "delayed" })}>{num(q.delayed)}</Link>
                </td>
                <td class="n" data-count="inFlight">
                  {num(q.inFlight)}
                </td>
                <td class={q.dead > 0 ? "n dead" : "n"} data-count="dead">
                  <Link href={href(base, { tab: "dead" })}>{num(q.dead)}</Link>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div class="charts">
        {overview.rates.map((rates) => (
          <RateChart
            key={rates.broker}
            title={`${rates.broker}: messages per minute`}
            now={overview.at}
            series={[
              { label: "Processed", kind: "processed", points: rates.processed },
              { label: "Failed", kind: "failed", points: rates.failed },
            ]}
          />
        ))}
      </div>
    </section>
  );
}
