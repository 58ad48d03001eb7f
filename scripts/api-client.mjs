// A minimal JSON client for the API, shared by the smoke walk, the benchmark and the browser tests:
// `call(path, { method, json, token, headers, body })` resolves to { status, body, headers }.

/** @param {string} baseUrl the Worker's base URL */
export function createApiClient(baseUrl) {
  return async function call(path, { method = 'GET', json, token, headers = {}, body } = {}) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'application/json',
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: json === undefined ? body : JSON.stringify(json),
    });
    const text = await response.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: response.status, body: parsed, headers: response.headers };
  };
}
