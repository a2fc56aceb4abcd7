// Search by message id, actor name, or (bounded) in args; the query lives in the URL.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api";
import { Status, useLoad } from "../components/common";
import { MessageTable } from "../components/MessageTable";
import { num } from "../format";
import { href, navigate } from "../router";
import { getSession } from "../session";

const FIELDS = ["id", "actor", "args"] as const;

export function SearchPage(props: { query: URLSearchParams }): JSX.Element {
  const session = getSession();
  const q = props.query.get("q") ?? "";
  const field = (FIELDS as readonly string[]).includes(props.query.get("field") ?? "")
    ? (props.query.get("field") as (typeof FIELDS)[number])
    : "id";
  const broker = props.query.get("broker") ?? "";
  const queue = props.query.get("queue") ?? "";
  const [form, setForm] = useState({ q, field, broker, queue });
  const loaded = useLoad(
    () =>
      q === ""
        ? Promise.resolve(undefined)
        : api.search({
            q,
            field,
            ...(broker ? { broker } : {}),
            ...(queue ? { queue } : {}),
            limit: 50,
          }),
    [q, field, broker, queue],
  );
  const onSubmit = (event: Event): void => {
    event.preventDefault();
    navigate(href("search", { ...form }));
  };
  const value = (event: Event): string => (event.target as HTMLInputElement).value;
  return (
    <section>
      <h1>Search</h1>
      <form class="search" onSubmit={onSubmit} role="search">
        <input
          type="search"
          placeholder="message id, actor name or text in args"
          value={form.q}
          onInput={(e) => setForm({ ...form, q: value(e) })}
          aria-label="Search for"
          data-testid="search-q"
        />
        <select
          value={form.field}
          onChange={(e) => setForm({ ...form, field: value(e) as typeof field })}
          aria-label="Search in"
        >
          <option value="id">message id</option>
          <option value="actor">actor</option>
          <option value="args">args</option>
        </select>
        <select
          value={form.broker}
          onChange={(e) => setForm({ ...form, broker: value(e) })}
          aria-label="Broker"
        >
          <option value="">all brokers</option>
          {session.brokers.map((b) => (
            <option key={b.id} value={b.id}>
              {b.id}
            </option>
          ))}
        </select>
        <input
          placeholder="queue (optional)"
          value={form.queue}
          onInput={(e) => setForm({ ...form, queue: value(e) })}
          aria-label="Queue"
        />
        <button type="submit">Search</button>
      </form>
      <Status loaded={loaded} />
      {loaded.data && (
        <>
          <p class="muted" data-testid="search-summary">
            {num(loaded.data.results.length)} found, {num(loaded.data.scanned)} messages scanned
            {loaded.data.truncated
              ? " (search stopped at its bound: narrow it to a broker or queue)"
              : ""}
          </p>
          <MessageTable
            messages={loaded.data.results}
            broker={broker || (session.brokers.length === 1 ? session.brokers[0]!.id : undefined)}
            showQueue
          />
        </>
      )}
    </section>
  );
}
