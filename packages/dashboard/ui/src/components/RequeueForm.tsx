// Re-enqueue a message with edited args/kwargs: JSON textareas validated as you type.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { DramatiqMessage } from "../api";
import { pretty } from "../format";
import { Link } from "../router";

type Parsed =
  { ok: true; args: unknown[]; kwargs: Record<string, unknown> } | { ok: false; error: string };

export function parseEdit(argsText: string, kwargsText: string): Parsed {
  let args: unknown;
  let kwargs: unknown;
  try {
    args = JSON.parse(argsText);
  } catch (error) {
    return { ok: false, error: `args: ${(error as Error).message}` };
  }
  if (!Array.isArray(args)) return { ok: false, error: "args must be a JSON array" };
  try {
    kwargs = kwargsText.trim() === "" ? {} : JSON.parse(kwargsText);
  } catch (error) {
    return { ok: false, error: `kwargs: ${(error as Error).message}` };
  }
  if (typeof kwargs !== "object" || kwargs === null || Array.isArray(kwargs))
    return { ok: false, error: "kwargs must be a JSON object" };
  return { ok: true, args, kwargs: kwargs as Record<string, unknown> };
}

export function RequeueForm(props: {
  message: DramatiqMessage;
  submit: (body: { args: unknown[]; kwargs: Record<string, unknown> }) => Promise<string>;
  link: (id: string) => string;
}): JSX.Element {
  const [argsText, setArgs] = useState(pretty(props.message.args));
  const [kwargsText, setKwargs] = useState(pretty(props.message.kwargs));
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ id?: string; error?: string }>();
  const parsed = parseEdit(argsText, kwargsText);
  const onSubmit = (event: Event): void => {
    event.preventDefault();
    if (!parsed.ok) return;
    setBusy(true);
    setOutcome(undefined);
    props.submit({ args: parsed.args, kwargs: parsed.kwargs }).then(
      (id) => {
        setBusy(false);
        setOutcome({ id });
      },
      (error: Error) => {
        setBusy(false);
        setOutcome({ error: error.message });
      },
    );
  };
  return (
    <details class="requeue">
      <summary>Re-enqueue with edited args</summary>
      <form onSubmit={onSubmit}>
        <label>
          Args (JSON array)
          <textarea
            rows={4}
            spellcheck={false}
            value={argsText}
            onInput={(event) => setArgs((event.target as HTMLTextAreaElement).value)}
            data-testid="requeue-args"
          />
        </label>
        <label>
          Kwargs (JSON object)
          <textarea
            rows={3}
            spellcheck={false}
            value={kwargsText}
            onInput={(event) => setKwargs((event.target as HTMLTextAreaElement).value)}
          />
        </label>
        {!parsed.ok && <p class="error">{parsed.error}</p>}
        <button type="submit" disabled={!parsed.ok || busy} data-testid="requeue-submit">
          Enqueue a copy
        </button>{" "}
        {outcome?.id && (
          <span class="ok">
            Enqueued as <Link href={props.link(outcome.id)}>{outcome.id}</Link>
          </span>
        )}
        {outcome?.error && <span class="error">{outcome.error}</span>}
      </form>
    </details>
  );
}
