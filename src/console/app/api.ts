// The one way the console talks to the control plane: same-origin fetch with the session
// cookie, JSON in and out, errors as { error: { code, message, fix } }.

/** An API failure with the server's coded error (or a local one when the server gave none). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fix: string | undefined;

  constructor(status: number, code: string, message: string, fix?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fix = fix;
  }
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called when any request answers 401: the session ended (expired, revoked or signed out). */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'DELETE';
  /** JSON body. POST always sends one (`{}` when omitted) so the server sees a JSON request. */
  readonly body?: unknown;
  /** Do not announce a 401 to the listeners (the first /api/me probe). */
  readonly quietUnauthorized?: boolean;
}

async function errorFrom(response: Response): Promise<ApiError> {
  try {
    const payload = (await response.json()) as { error?: { code?: string; message?: string; fix?: string } };
    const error = payload.error;
    if (error?.code && error.message)
      return new ApiError(response.status, error.code, error.message, error.fix);
  } catch {
    // Not JSON (a proxy's error page): fall through to a generic error.
  }
  return new ApiError(response.status, 'HTTP_' + response.status, `The server answered ${response.status}.`);
}

/** Sends one API request and returns its JSON answer (undefined for 204). */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (method === 'POST' || options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body ?? {});
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch (cause) {
    throw new ApiError(0, 'NETWORK', `The control plane could not be reached (${String(cause)}).`);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !options.quietUnauthorized) {
      for (const listener of unauthorizedListeners) listener();
    }
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Fetches a text resource (asciicast recordings). */
export async function requestText(path: string): Promise<string> {
  const response = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) throw await errorFrom(response);
  return await response.text();
}

/** Where the sign-in button goes: the IdP round trip, then back to `returnPath`. */
export function loginUrl(returnPath: string): string {
  return '/auth/login?return=' + encodeURIComponent(returnPath);
}
