// Calls to the gateway. Every call carries the saved token, if any (outside dev mode admin reads
// need the read or the admin token, actions the admin token); failures become an ApiError with
// the problem's detail, shown to the user instead of logged.

const tokenKey = 'causeway.adminToken';

export class ApiError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

export const adminToken = {
  get: () => localStorage.getItem(tokenKey) ?? '',
  set: (value) => (value ? localStorage.setItem(tokenKey, value) : localStorage.removeItem(tokenKey)),
};

export async function api(method, path, body, options = {}) {
  const headers = { ...(options.headers ?? {}) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = adminToken.get();
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new ApiError(data?.detail ?? `${response.status} ${response.statusText}`, response.status, data);
  }
  return data;
}

/** Shows a short message at the bottom of the page for a few seconds. */
export function toast(message, kind = 'info') {
  const area = document.getElementById('toasts');
  const item = document.createElement('div');
  item.className = `toast toast-${kind}`;
  item.textContent = message;
  area.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/** Runs an action from a button: disabled while it runs, its failure shown as a toast. */
export async function act(button, work) {
  button.disabled = true;
  try {
    return await work();
  } catch (error) {
    toast(error instanceof ApiError ? `${error.status}: ${error.message}` : String(error), 'error');
    return undefined;
  } finally {
    button.disabled = false;
  }
}
