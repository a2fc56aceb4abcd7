// The session (CSRF token, read-only flag, features, brokers), fetched once before the first render.
import { api, setCsrfToken, type Session } from "./api";

let session: Session | undefined;

export async function loadSession(): Promise<Session> {
  session = await api.session();
  setCsrfToken(session.csrfToken);
  return session;
}

export function getSession(): Session {
  if (!session) throw new Error("session not loaded");
  return session;
}
