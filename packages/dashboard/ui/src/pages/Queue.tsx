// A queue: its messages by tab (ready / delayed / dead), oldest or newest first, paginated;
// retry / delete selected, retry all dead letters, purge with a typed confirmation.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, seg, type MessageState } from "../api";
import { ActionButton, Status, useLoad } from "../components/common";
import { MessageTable } from "../components/MessageTable";
import { num } from "../format";
import { useLive } from "../live";
import { Link, href, navigate } from "../router";
import { getSession } from "../session";

const LIMIT = 50;
const TABS: MessageState[] = ["ready", "delayed", "dead"];

export function QueuePage(props: {
  broker: string;
  queue: string;
  query: URLSearchParams;
}): JSX.Element {
  const { broker, queue } = props;
  const session = getSession();
  const tab = (TABS as string[]).includes(props.query.get("tab") ?? "")
    ? (props.query.get("tab") as MessageState)
    : "ready";
  const order = props.query.get("order") === "newest" ? "newest" : "oldest";
  const page = Math.max(1, Number.parseInt(props.query.get("page") ?? "1", 10) || 1);
  const live = useLive();
  const base = `queues/${seg(broker)}/${seg(queue)}`;
  const loaded = useLoad(
    () => api.messages(broker, queue, { state: tab, order, page: page - 1, limit: LIMIT }),
    [broker, queue, tab, order, page, live.changes],
  );
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [purging, setPurging] = useState(false);
  const [confirm, setConfirm] = useState("");
  useEffect(() => setSelected(new Set()), [broker, queue, tab, order, page]);

  const counts = live.overview?.queues.find((q) => q.broker === broker && q.queue === queue);
  const data = loaded.data;
  const pages = data ? Math.max(1, Math.ceil(data.total / LIMIT)) : 1;
  const go = (query: Record<string, string | number | undefined>): string =>
    href(base, { tab, order, page: undefined, ...query });
  const toggle = (id: string): void => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const toggleAll = (): void => {
    const ids = data?.messages.map((m) => m.id) ?? [];
    setSelected(ids.every((id) => selected.has(id)) ? new Set() : new Set(ids));
  };
  const done = (text: string): string => {
    setSelected(new Set());
    loaded.reload();
    return text;
  };

  return (
    <section>
      <p class="crumbs">
        <Link href="./">Overview</Link> › {broker} › <strong>{queue}</strong>
      </p>
      <h1>
        Queue <span class="mono">{queue}</span>
      </h1>
      <nav class="tabs" aria-label="Message state">
        {TABS.map((t) => (
          <Link key={t} href={go({ tab: t })} class={t === tab ? "tab active" : "tab"}>
            {t === "dead" ? "Dead" : t === "ready" ? "Ready" : "Delayed"}
            {counts && <span class="count">{num(counts[t])}</span>}
          </Link>
        ))}
      </nav>
      <div class="toolbar">
        <span>
          Order:{" "}
          <Link href={go({ order: "oldest" })} class={order === "oldest" ? "active" : ""}>
            oldest first
          </Link>{" "}
          ·{" "}
          <Link href={go({ order: "newest" })} class={order === "newest" ? "active" : ""}>
            newest first
          </Link>
        </span>
        {!session.readOnly && (
          <span class="actions" data-testid="queue-actions">
            {tab === "dead" && (
              <ActionButton
                label={`Retry selected (${selected.size})`}
                disabled={selected.size === 0}
                testId="retry-selected"
                run={async () => {
                  const { retried } = await api.retry(broker, queue, { ids: [...selected] });
                  return done(`Retried ${retried}`);
                }}
              />
            )}
            {tab === "dead" && (
              <ActionButton
                label="Retry all dead letters"
                testId="retry-all"
                disabled={(data?.total ?? 0) === 0}
                run={async () => {
                  const { retried } = await api.retry(broker, queue, { all: true });
                  return done(`Retried ${retried}`);
                }}
              />
            )}
            <ActionButton
              label={`Delete selected (${selected.size})`}
              class="danger"
              disabled={selected.size === 0}
              testId="delete-selected"
              run={async () => {
                let deleted = 0;
                for (const id of selected)
                  if ((await api.remove(broker, queue, id, tab)).deleted) deleted += 1;
                return done(`Deleted ${deleted}`);
              }}
            />
            <button type="button" class="danger" onClick={() => setPurging(!purging)}>
              Purge queue…
            </button>
          </span>
        )}
      </div>
      {purging && !session.readOnly && (
        <form
          class="confirm"
          onSubmit={(event) => {
            event.preventDefault();
          }}
        >
          <label>
            Purging deletes every message of <span class="mono">{queue}</span>. Type the queue name
            to confirm:{" "}
            <input
              value={confirm}
              onInput={(event) => setConfirm((event.target as HTMLInputElement).value)}
              aria-label="Queue name"
            />
          </label>{" "}
          <ActionButton
            label="Purge"
            class="danger"
            disabled={confirm !== queue}
            run={async () => {
              const { purged } = await api.purge(broker, queue, confirm);
              setConfirm("");
              return done(`Purged ${purged}`);
            }}
          />
        </form>
      )}
      <Status loaded={loaded} />
      {data && (
        <>
          <MessageTable
            broker={broker}
            messages={data.messages}
            selected={session.readOnly ? undefined : selected}
            onToggle={toggle}
            onToggleAll={toggleAll}
          />
          <nav class="pager" aria-label="Pages">
            <span>
              {num(data.total)} message{data.total === 1 ? "" : "s"} · page {data.page + 1} of{" "}
              {pages}
            </span>{" "}
            {page > 1 && <Link href={go({ page: page - 1 })}>‹ previous</Link>}{" "}
            {page < pages && <Link href={go({ page: page + 1 })}>next ›</Link>}{" "}
            {page > pages && (
              <button type="button" onClick={() => navigate(go({ page: pages }))}>
                last page
              </button>
            )}
          </nav>
        </>
      )}
    </section>
  );
}
