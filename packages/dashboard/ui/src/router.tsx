// A tiny history-API router. Paths are relative to the document's <base href> (the mount
// prefix), so "queues/redis/q" works whether the dashboard is served at / or at /dq/.
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** Decoded path segments after the base, e.g. ["queues", "redis", "default"]. */
  parts: string[];
  query: URLSearchParams;
}

function basePath(): string {
  return new URL(document.baseURI).pathname.replace(/\/?$/, "/");
}

export function currentRoute(): Route {
  const base = basePath();
  const path = location.pathname.startsWith(base)
    ? location.pathname.slice(base.length)
    : location.pathname.replace(/^\//, "");
  const parts = path
    .split("/")
    .filter((part) => part !== "")
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
  return { parts, query: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();
const emit = (): void => listeners.forEach((listener) => listener());
addEventListener("popstate", emit);

/** Goes to `href` (relative to the base) without reloading the page. */
export function navigate(href: string, replace = false): void {
  const url = new URL(href, document.baseURI);
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  scrollTo(0, 0);
  emit();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = (): void => setRoute(currentRoute());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return route;
}

/** A link handled in the page (a plain <a href> for middle clicks and copy-link). */
export function Link(props: {
  href: string;
  class?: string;
  children: ComponentChildren;
  title?: string;
}): JSX.Element {
  const onClick = (event: MouseEvent): void => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return;
    event.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={props.href} class={props.class} title={props.title} onClick={onClick}>
      {props.children}
    </a>
  );
}

/** Builds "path?query" with only the set parameters. */
export function href(
  path: string,
  query: Record<string, string | number | undefined> = {},
): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== "") params.set(key, String(value));
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}
