// `npm run openapi:check -- --url` takes the document's address or the server's base URL.
import { describe, expect, it } from 'vitest';
import { openapiTarget } from '../../scripts/openapi/target.mjs';

describe('openapiTarget', () => {
  it('takes a .json address as the document, the API at its folder', () => {
    expect(openapiTarget('http://127.0.0.1:8787/openapi.json')).toEqual({
      url: 'http://127.0.0.1:8787/openapi.json',
      api: 'http://127.0.0.1:8787',
    });
    expect(openapiTarget('https://auth.example.com/v2/spec.JSON')).toEqual({
      url: 'https://auth.example.com/v2/spec.JSON',
      api: 'https://auth.example.com/v2',
    });
  });

  it('takes any other address as the base URL, with or without a slash', () => {
    for (const base of ['http://127.0.0.1:8787', 'http://127.0.0.1:8787/']) {
      expect(openapiTarget(base)).toEqual({
        url: 'http://127.0.0.1:8787/openapi.json',
        api: 'http://127.0.0.1:8787',
      });
    }
    expect(openapiTarget('https://example.com/auth/')).toEqual({
      url: 'https://example.com/auth/openapi.json',
      api: 'https://example.com/auth',
    });
  });

  it('refuses what is not a URL', () => {
    expect(() => openapiTarget('127.0.0.1:8787')).toThrow();
  });
});
