// One message: decoded args/kwargs, options, retries, eta, traceback, pipeline/group, result,
// the raw JSON; retry (dead letters), delete, re-enqueue with edited args, cancel/abort.
import type { JSX } from "preact";
import { api, seg, ApiError, type MessageDetail } from "../api";
import { ActionButton, ErrorBox, useLoad } from "../components/common";
import { RequeueForm } from "../components/RequeueForm";
import { ago, pretty, time } from "../format";
import { useLive } from "../live";
import { Link, href } from "../router";
import { getSession } from "../session";

function Row(props: { label: string; children: JSX.Element | string | number }): JSX.Element {
  return (
    <tr>
      <th>{props.label}</th>
      <td>{props.children}</td>
    </tr>
  );
}

function Facts(props: { detail: MessageDetail }): JSX.Element {
  const { detail } = props;
  const m = detail.message;
  return (
    <table class="facts">
      <tbody>
        <Row label="State">
          <span class={`badge ${detail.state}`} data-testid="message-state">
            {detail.state}
          </span>
        </Row>
        <Row label="Actor">{m.actor_name}</Row>
        <Row label="Queue">{m.queue_name}</Row>
        <Row label="Message id">
          <span class="mono">{m.message_id}</span>
        </Row>
        <Row label="Enqueued">{`${time(m.message_timestamp)} (${ago(m.message_timestamp)})`}</Row>
        <Row label="Retries">
          <span data-testid="message-retries">{detail.retries}</span>
        </Row>
        <Row label="ETA">
          {detail.eta === undefined ? "—" : `${time(detail.eta)} (${ago(detail.eta)})`}
        </Row>
        {detail.pipeline && (
          <Row label="Pipeline">
            <span data-testid="message-pipeline">
              {detail.pipeline.next?.length
                ? `${detail.pipeline.next.length} more step${detail.pipeline.next.length === 1 ? "" : "s"} after this one: ${detail.pipeline.next.join(" → ")}`
                : `step ${detail.pipeline.step} of ${detail.pipeline.of}`}
            </span>
          </Row>
        )}
        {detail.group && (
          <Row label="Group">
            <span data-testid="message-group">{`${detail.group.id ?? "(no id)"}${detail.group.size !== undefined ? `, ${detail.group.size} messages` : ""}`}</span>
          </Row>
        )}
      </tbody>
    </table>
  );
}

/** The options without the traceback when it is shown in its own section. */
function shownOptions(detail: MessageDetail): Record<string, unknown> {
  if (!detail.traceback) return detail.message.options;
  const { traceback: _traceback, ...rest } = detail.message.options;
  return rest;
}

export function MessagePage(props: { broker: string; queue: string; id: string }): JSX.Element {
  const { broker, queue, id } = props;
  const session = getSession();
  const live = useLive();
  const loaded = useLoad(() => api.message(broker, queue, id), [broker, queue, id, live.changes]);
  const queueHref = `queues/${seg(broker)}/${seg(queue)}`;
  const detail = loaded.data;
  const gone = loaded.error instanceof ApiError && loaded.error.status === 404;
  return (
    <section>
      <p class="crumbs">
        <Link href="./">Overview</Link> › {broker} › <Link href={queueHref}>{queue}</Link> ›{" "}
        <span class="mono">{id}</span>
      </p>
      <h1>Message</h1>
      {gone && (
        <p class="notice" data-testid="message-gone">
          This message is no longer in {queue} (processed, moved or deleted).{" "}
          <Link href={queueHref}>Back to the queue</Link>
        </p>
      )}
      {loaded.error && !gone && <ErrorBox error={loaded.error} />}
      {!detail && !loaded.error && <p class="muted">Loading…</p>}
      {detail && (
        <>
          {!session.readOnly && (
            <div class="toolbar actions" data-testid="message-actions">
              {detail.state === "dead" && (
                <ActionButton
                  label="Retry"
                  testId="retry"
                  run={async () => {
                    const { retried } = await api.retry(broker, queue, { ids: [id] });
                    loaded.reload();
                    return retried ? "Sent back to the queue" : "Nothing retried";
                  }}
                />
              )}
              <ActionButton
                label="Delete"
                class="danger"
                testId="delete"
                run={async () => {
                  const { deleted } = await api.remove(broker, queue, id, detail.state);
                  loaded.reload();
                  return deleted ? "Deleted" : "Not found";
                }}
              />
              {session.features.abort && detail.state !== "dead" && (
                <>
                  <ActionButton
                    label="Cancel"
                    testId="cancel"
                    run={async () => {
                      await api.abort(broker, queue, id, "cancel");
                      return "Cancel requested";
                    }}
                  />
                  <ActionButton
                    label="Abort"
                    class="danger"
                    testId="abort"
                    run={async () => {
                      await api.abort(broker, queue, id, "abort");
                      return "Abort requested";
                    }}
                  />
                </>
              )}
            </div>
          )}
          <Facts detail={detail} />
          <h2>Args</h2>
          <pre class="code" data-testid="message-args">
            {pretty(detail.message.args)}
          </pre>
          <h2>Kwargs</h2>
          <pre class="code" data-testid="message-kwargs">
            {pretty(detail.message.kwargs)}
          </pre>
          <h2>Options</h2>
          <pre class="code">{pretty(shownOptions(detail))}</pre>
          {detail.traceback && (
            <>
              <h2>Traceback of the last failure</h2>
              <pre class="code traceback" data-testid="traceback">
                {detail.traceback}
              </pre>
            </>
          )}
          {detail.result && (
            <>
              <h2>Result</h2>
              <p>
                <span class={`badge ${detail.result.state}`}>{detail.result.state}</span>
              </p>
              {detail.result.value !== undefined && (
                <pre class="code">{pretty(detail.result.value)}</pre>
              )}
              {detail.result.error && <pre class="code traceback">{detail.result.error}</pre>}
            </>
          )}
          {!session.readOnly && (
            <RequeueForm
              key={detail.message.message_id}
              message={detail.message}
              submit={async (body) => {
                const { id: newId } = await api.requeue(broker, queue, id, body);
                return newId;
              }}
              link={(newId) => `messages/${seg(broker)}/${seg(queue)}/${seg(newId)}`}
            />
          )}
          <details class="raw">
            <summary>Raw JSON</summary>
            <pre class="code" data-testid="raw-json">
              {detail.raw}
            </pre>
          </details>
          <p>
            <Link href={href(queueHref, { tab: detail.state })}>Back to {queue}</Link>
          </p>
        </>
      )}
    </section>
  );
}
