import { readFile, stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import path from "node:path";
import { CONTENT_SECURITY_POLICY, send } from "./http.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".woff2": "font/woff2",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

const HTML_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-frame-options": "DENY",
};

/** Escapes text for an HTML attribute or text node. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/**
 * The built UI (dist/ui): index.html with `<base href>` set to the mount prefix, and its assets.
 * Without a build, pages answer a plain message saying how to build it.
 */
export class StaticUi {
  private index: Promise<string | undefined> | undefined;

  constructor(private readonly directory: string) {}

  private loadIndex(): Promise<string | undefined> {
    this.index ??= readFile(path.join(this.directory, "index.html"), "utf8").catch(() => undefined);
    return this.index;
  }

  /** Answers a page of the SPA: index.html whose `<base href>` is `base` (ends with `/`). */
  async page(res: ServerResponse, base: string): Promise<void> {
    const html = await this.loadIndex();
    if (html === undefined) {
      this.index = undefined; // built later: look again next time
      const text = `<!doctype html><html><head><meta charset="utf-8"><title>dq dashboard</title><base href="${escapeHtml(base)}"></head><body><h1>dq dashboard</h1><p>The dashboard UI is not built: run <code>pnpm --filter @dq/dashboard build</code>. The JSON API answers under <a href="api/session">api/</a>.</p></body></html>`;
      send(res, 200, text, HTML_HEADERS);
      return;
    }
    const tag = `<base href="${escapeHtml(base)}">`;
    const withBase = /<base\s[^>]*>/i.test(html)
      ? html.replace(/<base\s[^>]*>/i, tag)
      : html.replace(/<head([^>]*)>/i, `<head$1>${tag}`);
    send(res, 200, withBase, HTML_HEADERS);
  }

  /** Answers a file under dist/ui/assets (or another top-level file of the build); false when absent. */
  async asset(res: ServerResponse, relative: string): Promise<boolean> {
    const normalized = path.posix.normalize(relative);
    if (normalized.startsWith("..") || normalized.includes("\0") || path.isAbsolute(normalized)) {
      return false;
    }
    const file = path.join(this.directory, normalized);
    if (!file.startsWith(this.directory)) return false;
    try {
      const info = await stat(file);
      if (!info.isFile()) return false;
      const body = await readFile(file);
      const type = TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
      const immutable = normalized.startsWith("assets/");
      send(res, 200, body, {
        "content-type": type,
        "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
        ...(type.startsWith("text/html") ? HTML_HEADERS : {}),
      });
      return true;
    } catch {
      return false;
    }
  }
}
