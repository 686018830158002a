// REST calls with the session cookie; errors carry the server's code.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** fetch JSON. `body` is JSON unless it is a Blob/ArrayBuffer (sent raw with `type`). */
export async function api(method, path, body, type) {
  const init = {method, credentials: 'same-origin', headers: {}};
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    init.body = body;
    init.headers['Content-Type'] = type || 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const resp = await fetch(path, init);
  if (resp.status === 204) return null;
  const isJson = (resp.headers.get('Content-Type') || '').includes('application/json');
  const data = isJson ? await resp.json() : await resp.text();
  if (!resp.ok) {
    const err = isJson && data && data.error ? data.error : {};
    throw new ApiError(resp.status, err.code, err.message, err.details);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
