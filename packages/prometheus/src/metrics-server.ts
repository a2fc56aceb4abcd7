import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MetricsServerError } from "./errors.js";

/** What a route answers. */
export interface RouteResponse {
  contentType: string;
  body: string;
}

/** A running metrics HTTP server. */
export interface MetricsServer {
  /** The node HTTP server. */
  readonly server: Server;
  /** The host it is bound to. */
  readonly host: string;
  /** The port it listens on (the chosen one when 0 was asked). */
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server answering `routes[pathname]` (GET); `/` answers like `/metrics`.
 * @throws MetricsServerError when it cannot listen, naming the host and port (e.g. in use)
 */
export async function startMetricsServer(
  host: string,
  port: number,
  routes: Record<string, () => Promise<RouteResponse>>,
): Promise<MetricsServer> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
    const route = routes[pathname === "/" ? "/metrics" : pathname];
    if (!route || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    route().then(
      ({ contentType, body }) => {
        response.writeHead(200, { "Content-Type": contentType });
        response.end(request.method === "HEAD" ? undefined : body);
      },
      (error: unknown) => {
        response
          .writeHead(500, { "Content-Type": "text/plain" })
          .end(`could not collect the metrics: ${String(error)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const why =
        error.code === "EADDRINUSE"
          ? `port ${port} is already in use`
          : error.code === "EACCES"
            ? `no permission to bind port ${port}`
            : error.message;
      reject(
        new MetricsServerError(
          `cannot serve Prometheus metrics on ${host}:${port}: ${why} (set dramatiq_prom_port or httpPort to another port)`,
          { cause: error },
        ),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  return {
    server,
    host,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
