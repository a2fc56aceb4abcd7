// The dashboard's single page: loads the session, then routes by URL (history API).
import { render, type JSX } from "preact";
import { ErrorBox } from "./components/common";
import { useLive } from "./live";
import { MessagePage } from "./pages/Message";
import { OverviewPage } from "./pages/Overview";
import { QueuePage } from "./pages/Queue";
import { SchedulesPage } from "./pages/Schedules";
import { SearchPage } from "./pages/Search";
import { WorkersPage } from "./pages/Workers";
import { Link, useRoute, type Route } from "./router";
import { getSession, loadSession } from "./session";

function page(route: Route): JSX.Element {
  const [first, a, b, c] = route.parts;
  if (first === undefined) return <OverviewPage />;
  if (first === "queues" && a !== undefined && b !== undefined)
    return <QueuePage broker={a} queue={b} query={route.query} />;
  if (first === "messages" && a !== undefined && b !== undefined && c !== undefined)
    return <MessagePage broker={a} queue={b} id={c} />;
  if (first === "workers") return <WorkersPage />;
  if (first === "search") return <SearchPage query={route.query} />;
  if (first === "schedules" && getSession().features.scheduler) return <SchedulesPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page here. <Link href="./">Go to the overview</Link>
      </p>
    </section>
  );
}

function App(): JSX.Element {
  const route = useRoute();
  const live = useLive();
  const session = getSession();
  const here = route.parts[0] ?? "";
  const nav = (path: string, label: string): JSX.Element => (
    <Link href={path === "" ? "./" : path} class={here === path ? "active" : ""}>
      {label}
    </Link>
  );
  return (
    <>
      <header class="top">
        <span class="brand">dq</span>
        <nav aria-label="Pages">
          {nav("", "Overview")}
          {nav("workers", "Workers")}
          {nav("search", "Search")}
          {session.features.scheduler && nav("schedules", "Schedules")}
        </nav>
        <span class="status">
          {session.readOnly && (
            <span class="badge readonly" data-testid="read-only">
              read-only
            </span>
          )}
          <span
            class={live.connected ? "dot on" : "dot"}
            title={live.connected ? "live" : "offline"}
          />
          {session.brokers.map((b) => (
            <span key={b.id} class="broker" title={b.url}>
              {b.id}
            </span>
          ))}
        </span>
      </header>
      <main>{page(route)}</main>
    </>
  );
}

const root = document.getElementById("app")!;
loadSession().then(
  () => render(<App />, root),
  (error: Error) => render(<ErrorBox error={error} />, root),
);
