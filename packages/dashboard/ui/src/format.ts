// Formatting helpers. Everything here returns plain strings that are rendered as text.

export function time(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "—";
  const date = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

export function ago(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined || !Number.isFinite(ms)) return "—";
  const seconds = Math.round((now - ms) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const text =
    s < 60
      ? `${s}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m ${s % 60}s`
        : s < 86400
          ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
          : `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  return future ? `in ${text}` : `${text} ago`;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return "—";
  return ago(Date.now() - ms).replace(/ ago$/, "");
}

export function num(n: number | undefined): string {
  return n === undefined ? "—" : n.toLocaleString("en-US");
}

/** Pretty JSON of decoded payload data (shown as text, never as markup). */
export function pretty(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
