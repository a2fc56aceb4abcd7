// Python's prometheus_client writes histogram bounds as Go formats floats (`le="5.0"`,
// `le="1e+07"`); prom-client writes `le="5"`. Dashboards and recording rules match the label's
// text, so the exposition text is rewritten to Python's.

/** prometheus_client's `floatToGoString`: Python's float repr, with Go's earlier switch to exponents. */
export function goFloat(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  const text = pythonFloatRepr(value);
  const dot = text.indexOf(".");
  if (value > 0 && dot > 6) {
    const mantissa = `${text[0]}.${text.slice(1, dot)}${text.slice(dot + 1)}`.replace(/[0.]+$/, "");
    return `${mantissa}e+0${dot - 1}`;
  }
  return text;
}

/** Python's `repr(float(value))` for finite values. */
function pythonFloatRepr(value: number): string {
  if (Object.is(value, -0)) return "-0.0";
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-4 || magnitude >= 1e16)) {
    const [mantissa, exponent] = value.toExponential().split("e") as [string, string];
    return `${mantissa}e${exponent[0]}${exponent.slice(1).padStart(2, "0")}`;
  }
  const text = String(value);
  return text.includes(".") ? text : `${text}.0`;
}

/** Rewrites every `le="<number>"` label of an exposition text to Python's form. */
export function pythonBucketBounds(text: string): string {
  return text.replace(/le="([^"]+)"/g, (match, bound: string) => {
    const value = bound === "+Inf" ? Infinity : Number(bound);
    return Number.isNaN(value) && bound !== "NaN" ? match : `le="${goFloat(value)}"`;
  });
}
