// Shared bits: loading/error states, a data hook, a button that runs an action.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api";

export interface Loaded<T> {
  data?: T;
  error?: ApiError | Error;
  loading: boolean;
  reload: () => void;
}

/** Fetches with `load` whenever `deps` change, keeping the previous data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((prev) => ({ ...prev, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error: Error) => mine === seq.current && setState({ error, loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function ErrorBox(props: { error: Error }): JSX.Element {
  const code = props.error instanceof ApiError ? `${props.error.code}: ` : "";
  return (
    <p class="error" role="alert">
      {code}
      {props.error.message}
    </p>
  );
}

export function Status(props: {
  loaded: Loaded<unknown>;
  children?: ComponentChildren;
}): JSX.Element | null {
  if (props.loaded.error) return <ErrorBox error={props.loaded.error} />;
  if (props.loaded.loading && props.loaded.data === undefined) return <p class="muted">Loading…</p>;
  return null;
}

/** A button that runs an async action once at a time and shows its outcome next to it. */
export function ActionButton(props: {
  label: string;
  run: () => Promise<string | void>;
  class?: string;
  disabled?: boolean;
  testId?: string;
}): JSX.Element {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string }>();
  const onClick = (): void => {
    setBusy(true);
    setOutcome(undefined);
    props.run().then(
      (text) => {
        setBusy(false);
        if (text) setOutcome({ ok: true, text });
      },
      (error: Error) => {
        setBusy(false);
        setOutcome({ ok: false, text: error.message });
      },
    );
  };
  return (
    <span class="action">
      <button
        type="button"
        class={props.class}
        disabled={busy || props.disabled}
        onClick={onClick}
        data-testid={props.testId}
      >
        {props.label}
      </button>
      {outcome && <span class={outcome.ok ? "ok" : "error"}>{outcome.text}</span>}
    </span>
  );
}
