// The HTTP API as the dashboard uses it: JSON over fetch with the token as a
// Bearer header, and EventSource (which cannot send headers) with ?access_token=.

const TOKEN_KEY = "claudeserver.token";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || "",
  set: (value) =>
    value ? sessionStorage.setItem(TOKEN_KEY, value) : sessionStorage.removeItem(TOKEN_KEY),
};

// `claudeserver serve` prints a login URL ending in ?token=...: the token is kept for this
// tab and taken out of the address bar, so it stays out of history and bookmarks.
export function takeTokenFromAddress() {
  const url = new URL(location.href);
  const value = url.searchParams.get("token");
  if (value === null) return;
  token.set(value.trim());
  url.searchParams.delete("token");
  history.replaceState(history.state, "", url);
}

export class ApiError extends Error {
  // `data` is the error body as the server sent it (a merge conflict lists its files there).
  constructor(status, message, data = null) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

// JSON in, JSON out; null for an empty answer such as 204.
export async function call(method, path, body) {
  const response = await send(method, path, body, "application/json");
  return response.json().catch(() => null);
}

// GET of a plain-text resource such as a unified diff.
export async function text(path) {
  return (await send("GET", path, undefined, "text/plain, text/x-diff")).text();
}

async function send(method, path, body, accept) {
  const headers = { Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token.get()) headers.Authorization = `Bearer ${token.get()}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "Cannot reach the server. Is it running?");
  }
  if (response.status === 401) {
    throw new ApiError(
      401,
      token.get()
        ? "The server rejected the token: enter a valid API token above."
        : "The server needs an API token: open the login URL `claudeserver serve` printed, " +
            "or enter the token above.",
    );
  }
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new ApiError(response.status, detail(data, response), data);
  }
  return response;
}

function detail(data, response) {
  const value = data && data.detail;
  if (Array.isArray(value)) {
    return value.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
  }
  return value ? String(value) : `${response.status} ${response.statusText}`;
}

// Opens an event stream; `handlers` maps event types to callbacks of the parsed data.
export function stream(path, params, handlers) {
  const url = new URL(path, location.href);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
  if (token.get()) url.searchParams.set("access_token", token.get());
  const source = new EventSource(url);
  for (const [type, handle] of Object.entries(handlers)) {
    source.addEventListener(type, (event) => handle(JSON.parse(event.data), event));
  }
  return source;
}
