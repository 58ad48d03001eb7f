// What `npm run openapi:check -- --url <address>` checks: the address is the document itself when its last
// path segment names a .json file, otherwise the server's base URL, whose document is at /openapi.json.

/** @param {string} address @returns {{ url: string, api: string }} the document's URL and the API's base */
export function openapiTarget(address) {
  const given = new URL(address);
  if (/\.json$/i.test(given.pathname)) {
    return { url: given.href, api: new URL('.', given).href.replace(/\/$/, '') };
  }
  const api = `${given.origin}${given.pathname.replace(/\/+$/, '')}`;
  return { url: `${api}/openapi.json`, api };
}
