// /docs renders Swagger UI from the Worker's own assets and lists every operation of /openapi.json.
import assert from 'node:assert/strict';

export const name = '/docs renders Swagger UI and lists every operation';

export async function run({ page, api, call, shot, browserErrors }) {
  const document = await call('/openapi.json');
  assert.equal(document.status, 200);
  const expected = Object.entries(document.body.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );

  const response = await page.goto(`${api}/docs`);
  assert.equal(response?.status(), 200);
  await page.locator('.swagger-ui .info .title').waitFor();
  assert.match(await page.locator('.swagger-ui .info .title').textContent(), /edgeauth API/);
  await page.locator('.opblock').first().waitFor();
  await shot('rendered');

  const listed = await page
    .locator('.opblock')
    .evaluateAll((blocks) =>
      blocks.map(
        (block) =>
          `${block.querySelector('.opblock-summary-method')?.textContent?.trim()} ${block
            .querySelector('.opblock-summary-path')
            ?.getAttribute('data-path')}`,
      ),
    );
  for (const operation of ['POST /login', 'GET /billing/plans']) {
    assert.ok(listed.includes(operation), `${operation} is listed`);
  }
  assert.deepEqual(
    [...new Set(listed)].sort(),
    [...expected].sort(),
    'every operation in /openapi.json is listed once',
  );

  // Opening an operation shows its documented responses, problem documents included.
  const login = page.locator('.opblock-post', { has: page.locator('[data-path="/login"]') });
  await login.locator('.opblock-summary-control').click();
  await login.locator('.responses-table').first().waitFor();
  await login.scrollIntoViewIfNeeded();
  const responses = await login.locator('.responses-table .response-col_status').allInnerTexts();
  assert.ok(responses.includes('200') && responses.includes('401'), `/login responses: ${responses}`);
  await shot('login-operation');

  assert.deepEqual(browserErrors, [], 'no script errors or CSP violations on /docs');
}
