// Queue names as configured in wrangler.toml; the Worker's queue handler dispatches on them.
export const EMAIL_QUEUE = 'edgeauth-email';
