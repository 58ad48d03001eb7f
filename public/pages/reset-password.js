// Submits the reset form on /reset-password to POST /new-password with the token from the link.
document.getElementById('reset').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = document.getElementById('result');
  const password = document.getElementById('password').value;
  if (password !== document.getElementById('confirm').value) {
    result.textContent = 'The two passwords differ.';
    return;
  }
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const response = await fetch('/new-password', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password }),
  });
  const body = await response.json().catch(() => ({}));
  result.textContent = response.ok
    ? 'Your password has been changed. You can sign in with it now.'
    : body.detail || 'Something went wrong; request a new link.';
  if (response.ok) event.target.remove();
});
