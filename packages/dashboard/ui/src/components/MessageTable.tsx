// A table of message summaries (queue page and search results), with optional row selection.
import type { JSX } from "preact";
import { seg, type MessageSummary } from "../api";
import { ago, time } from "../format";
import { Link } from "../router";

export function MessageTable(props: {
  broker?: string;
  messages: MessageSummary[];
  selected?: Set<string>;
  onToggle?: (id: string) => void;
  onToggleAll?: () => void;
  showQueue?: boolean;
}): JSX.Element {
  const selectable = props.selected !== undefined;
  const allSelected =
    selectable &&
    props.messages.length > 0 &&
    props.messages.every((m) => props.selected!.has(m.id));
  return (
    <table class="grid-table messages" data-testid="message-table">
      <thead>
        <tr>
          {selectable && (
            <th class="check">
              <input
                type="checkbox"
                aria-label="Select all on this page"
                checked={allSelected}
                onChange={() => props.onToggleAll?.()}
              />
            </th>
          )}
          <th>Message id</th>
          <th>Actor</th>
          {props.showQueue && <th>Queue</th>}
          <th>State</th>
          <th>Args</th>
          <th>Enqueued</th>
          <th>ETA / failed</th>
          <th class="n">Retries</th>
        </tr>
      </thead>
      <tbody>
        {props.messages.length === 0 && (
          <tr>
            <td colSpan={9} class="muted">
              No messages.
            </td>
          </tr>
        )}
        {props.messages.map((m) => {
          const broker = m.broker ?? props.broker ?? "";
          return (
            <tr key={m.id} data-id={m.id}>
              {selectable && (
                <td class="check">
                  <input
                    type="checkbox"
                    aria-label={`Select ${m.id}`}
                    checked={props.selected!.has(m.id)}
                    onChange={() => props.onToggle?.(m.id)}
                  />
                </td>
              )}
              <td class="mono">
                <Link href={`messages/${seg(broker)}/${seg(m.queue)}/${seg(m.id)}`}>{m.id}</Link>
              </td>
              <td>{m.actor}</td>
              {props.showQueue && (
                <td>
                  {broker}/{m.queue}
                </td>
              )}
              <td>
                <span class={`badge ${m.state}`}>{m.state}</span>
              </td>
              <td class="mono preview">{m.argsPreview}</td>
              <td title={time(m.enqueuedAt)}>{ago(m.enqueuedAt)}</td>
              <td>
                {m.state === "dead" ? (
                  <span title={time(m.failedAt)}>{ago(m.failedAt)}</span>
                ) : m.eta !== undefined ? (
                  <span title={time(m.eta)}>{ago(m.eta)}</span>
                ) : (
                  "—"
                )}
              </td>
              <td class="n">{m.retries}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
