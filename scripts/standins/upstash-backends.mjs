// The Redis behind the Upstash stand-in and how commands reach it: a real server through ioredis, or an isolated
// in-memory ioredis-mock made to answer as Redis does (types, errors, Lua), with Upstash's Lua flags translated.
import { createHash, randomUUID } from 'node:crypto';
import ioredis from 'ioredis';
import RedisMock from 'ioredis-mock';
import { CommandError, settle } from './upstash.mjs';

// ioredis is CommonJS; its default export is the client class, which also carries the named exports. Named ESM
// imports of it are not resolved by every loader (Vite's, which runs the test suite's global setup, gives undefined).
const { Redis, ReplyError } = ioredis;

const LUA_SHEBANG = /^#!lua\b[^\n]*/;
const NOSCRIPT = 'NOSCRIPT No matching script. Please use EVAL.';

// A shared ioredis connection must never change state (MULTI, SELECT, subscriptions…), so these are refused like
// Upstash refuses commands it does not offer over REST.
const UNAVAILABLE = new Set([
  ...['MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH', 'SELECT', 'CLIENT', 'HELLO', 'AUTH', 'RESET', 'QUIT'],
  ...['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE', 'MONITOR'],
  ...['SYNC', 'PSYNC', 'SHUTDOWN', 'DEBUG', 'REPLICAOF', 'SLAVEOF'],
]);

/**
 * Executes commands against the backend, translating Lua scripts so that @upstash/ratelimit's
 * `#!lua flags=allow-key-locking` scripts (an Upstash-only flag) run on stock Redis, while the SHA1s the client sees
 * stay those of the original text.
 * @param {Backend} backend
 */
export function createCommandRunner(backend) {
  /** sha1 of the original script text → script without its Upstash shebang */
  const scripts = new Map();

  /** @param {string} source */
  function remember(source) {
    const stripped = source.replace(LUA_SHEBANG, '');
    const sha = sha1(source);
    scripts.set(sha, stripped);
    return { sha, stripped };
  }

  /** @param {string[]} cmd @returns {Promise<Reply>} */
  async function run(cmd) {
    const name = cmd[0].toUpperCase();
    if (UNAVAILABLE.has(name)) throw new CommandError(`ERR Command is not available: '${cmd[0]}'`);
    if (name === 'EVAL' || name === 'EVAL_RO') return evalScript(name, cmd);
    if (name === 'EVALSHA' || name === 'EVALSHA_RO') return evalsha(name, cmd);
    if (name === 'SCRIPT') return script(cmd);
    return backend.call(cmd);
  }

  /** @param {string} name @param {string[]} cmd */
  function evalScript(name, [, source = '', ...rest]) {
    return backend.call([name, remember(source).stripped, ...rest]);
  }

  /** @param {string} name @param {string[]} cmd */
  async function evalsha(name, [, sha = '', ...rest]) {
    const stripped = scripts.get(sha.toLowerCase());
    const evalName = name === 'EVALSHA' ? 'EVAL' : 'EVAL_RO';
    if (stripped === undefined) {
      if (backend.kind === 'embedded') throw new CommandError(NOSCRIPT);
      return backend.call([name, sha, ...rest]);
    }
    if (backend.kind === 'embedded') return backend.call([evalName, stripped, ...rest]);
    try {
      return await backend.call([name, sha1(stripped), ...rest]);
    } catch (err) {
      if (!(err instanceof CommandError && err.message.startsWith('NOSCRIPT'))) throw err;
      return backend.call([evalName, stripped, ...rest]);
    }
  }

  /** @param {string[]} cmd */
  async function script([, sub = '', ...args]) {
    const subcommand = sub.toUpperCase();
    if (subcommand === 'LOAD') {
      const { sha, stripped } = remember(args[0] ?? '');
      if (backend.kind === 'redis') await backend.call(['SCRIPT', 'LOAD', stripped]);
      return sha;
    }
    if (subcommand === 'EXISTS') return scriptExists(args);
    if (subcommand === 'FLUSH') {
      scripts.clear();
      return backend.kind === 'redis' ? backend.call(['SCRIPT', 'FLUSH', ...args]) : 'OK';
    }
    if (backend.kind === 'redis') return backend.call(['SCRIPT', sub, ...args]);
    throw new CommandError(`ERR unknown subcommand '${sub}'. Try SCRIPT HELP.`);
  }

  /** @param {string[]} shas */
  async function scriptExists(shas) {
    if (backend.kind === 'embedded') return shas.map((sha) => (scripts.has(sha.toLowerCase()) ? 1 : 0));
    const translated = shas.map((sha) => {
      const stripped = scripts.get(sha.toLowerCase());
      return stripped === undefined ? sha : sha1(stripped);
    });
    return backend.call(['SCRIPT', 'EXISTS', ...translated]);
  }

  /** Each command of a pipeline is independent; one failing does not stop the others. @param {string[][]} cmds */
  async function pipeline(cmds) {
    /** @type {Outcome[]} */
    const outcomes = [];
    for (const cmd of cmds) {
      const outcome = await settle(run(cmd));
      outcomes.push('failure' in outcome ? { error: outcome.failure.message } : outcome);
    }
    return outcomes;
  }

  /**
   * Inside MULTI a NOSCRIPT cannot be retried, so known scripts always go as EVAL; SCRIPT LOAD is done before the
   * transaction (it touches no data) and answered in place by ECHOing the original SHA1.
   * @param {string[][]} cmds
   */
  async function transaction(cmds) {
    const prepared = [];
    for (const cmd of cmds) prepared.push(await prepareForTransaction(cmd));
    return backend.transaction(prepared);
  }

  /** @param {string[]} cmd @returns {Promise<string[]>} */
  async function prepareForTransaction(cmd) {
    const name = cmd[0].toUpperCase();
    if (UNAVAILABLE.has(name)) throw new CommandError(`ERR Command is not available: '${cmd[0]}'`);
    if (name === 'EVAL' || name === 'EVAL_RO')
      return [name, remember(cmd[1] ?? '').stripped, ...cmd.slice(2)];
    if (name === 'EVALSHA' || name === 'EVALSHA_RO') {
      const stripped = scripts.get((cmd[1] ?? '').toLowerCase());
      if (stripped !== undefined) return [name.replace('SHA', ''), stripped, ...cmd.slice(2)];
      if (backend.kind === 'embedded') throw new CommandError(NOSCRIPT);
      return cmd;
    }
    if (name === 'SCRIPT' && (cmd[1] ?? '').toUpperCase() === 'LOAD')
      return ['ECHO', String(await script(cmd))];
    return cmd;
  }

  return { run, pipeline, transaction };
}

/** @param {string} text */
function sha1(text) {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/**
 * Resolves once connected, so a wrong URL fails at start-up rather than on the first request.
 * @param {string} redisUrl
 * @param {(msg: string) => void} log
 * @returns {Promise<Backend>}
 */
export async function connectRedis(redisUrl, log) {
  const client = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
  let lastError = '';
  client.on('error', (err) => {
    if (err.message !== lastError) log(`upstash stand-in: redis error: ${err.message}`);
    lastError = err.message;
  });
  try {
    await new Promise((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', reject);
    });
  } catch (err) {
    client.disconnect();
    throw err;
  }

  // Upper-case names bypass ioredis' reply transformers (e.g. HGETALL → object), and callBuffer keeps raw bytes.
  /** @param {string[]} cmd */
  const args = ([name, ...rest]) => /** @type {[string, ...string[]]} */ ([name.toUpperCase(), ...rest]);
  return {
    kind: 'redis',
    async call(cmd) {
      try {
        return /** @type {Reply} */ (await client.callBuffer(...args(cmd)));
      } catch (err) {
        throw asCommandError(err);
      }
    },
    async transaction(cmds) {
      let replies;
      try {
        replies = await client.multi(cmds.map((cmd) => ['callBuffer', ...args(cmd)])).exec();
      } catch (err) {
        throw asCommandError(err);
      }
      if (!replies) throw new CommandError('EXECABORT Transaction discarded');
      return replies.map(([err, result]) =>
        err ? { error: err.message } : { result: /** @type {Reply} */ (result) },
      );
    },
    flush: () => client.flushdb(),
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** Redis replies are the caller's fault; anything else means Redis could not be reached. @param {any} err */
function asCommandError(err) {
  if (!(err instanceof ReplyError)) return err;
  const causes = /** @type {{ previousErrors?: Error[] }} */ (err).previousErrors;
  const message = causes?.length ? `${err.message} (${causes[0].message.trim()})` : err.message;
  return new CommandError(message);
}

/**
 * ioredis-mock shares data between instances with the same host:port/db, so a random host name isolates this one.
 * It has no generic `call`, so commands dispatch by method name, restricted to real Redis command names.
 * @returns {Backend}
 */
const SET_OPTIONS = /^(nx|xx|get|ex|px|exat|pxat|keepttl)$/i;

/** Redis reads SET's options in any case (the client sends `nx`, `ex`); the mock only knows upper case. */
function upperSetOption(arg) {
  return typeof arg === 'string' && SET_OPTIONS.test(arg) ? arg.toUpperCase() : arg;
}

export function createEmbedded() {
  const mock = new RedisMock({ host: `upstash-standin-${randomUUID()}`, lazyConnect: false });
  const known = new Set(Redis.prototype.getBuiltinCommands());

  /**
   * Starts the command synchronously: the mock executes inside the promise executor, so a loop of starts is atomic.
   * @param {string[]} cmd
   */
  function start([name, ...rest]) {
    let method = name.toLowerCase();
    if (method === 'eval_ro') method = 'eval';
    if (method === 'eval') rest = [MOCK_LUA_PRELUDE + (rest[0] ?? ''), ...rest.slice(1)];
    if (method === 'set') rest = [rest[0], rest[1], ...rest.slice(2).map(upperSetOption)];
    const fn = /** @type {any} */ (mock)[method];
    if (!known.has(method) || typeof fn !== 'function') return Promise.reject(unknownCommand(name, rest));
    try {
      checkKeyType(mock, method, rest);
      return Promise.resolve(fn.apply(mock, rest)).then(
        (reply) => normalizeMockReply(method, reply),
        (err) => Promise.reject(mockError(name, rest, err)),
      );
    } catch (err) {
      return Promise.reject(mockError(name, rest, err));
    }
  }

  return {
    kind: 'embedded',
    call: (cmd) => start(cmd),
    async transaction(cmds) {
      const unknown = cmds.find(([name]) => !known.has(name.toLowerCase()));
      if (unknown) {
        const cause = unknownCommand(unknown[0], unknown.slice(1)).message;
        throw new CommandError(
          `EXECABORT Transaction discarded because of previous errors. (${cause.trim()})`,
        );
      }
      const started = cmds.map(start);
      return Promise.all(
        started.map((p) =>
          p.then(
            (result) => ({ result }),
            (err) => ({ error: err.message }),
          ),
        ),
      );
    },
    flush: () => mock.flushall(),
    async close() {
      await mock.flushall();
      mock.disconnect();
    },
  };
}

/** The type of value each command's first key must hold, for the commands ioredis-mock applies to any type. */
const KEY_TYPES = new Map(
  Object.entries({
    string: 'get getex getdel getset append strlen getrange setrange incr incrby incrbyfloat decr decrby',
    hash: 'hset hsetnx hmset hget hmget hgetall hdel hexists hincrby hincrbyfloat hkeys hvals hlen hstrlen hscan hrandfield',
    list: 'lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset lrem ltrim linsert lpos rpoplpush lmove',
    set: 'sadd srem smembers sismember smismember scard spop srandmember sscan smove',
    zset: 'zadd zrem zrange zrangebyscore zrevrange zrevrangebyscore zrangebylex zlexcount zscore zmscore zcard zcount zincrby zrank zrevrank zremrangebyscore zremrangebyrank zpopmin zpopmax zscan',
  }).flatMap(([type, names]) => names.split(' ').map((name) => [name, type])),
);
const INTEGER_COMMANDS = new Set(['incr', 'incrby', 'decr', 'decrby', 'hincrby']);

/**
 * ioredis-mock lets most commands run against a key of another type (HSET on a string, INCR turning text into
 * "NaN"…), so check what Redis checks before the mock gets to change anything.
 * @param {any} mock
 * @param {string} method
 * @param {string[]} args
 */
function checkKeyType(mock, method, [key, field]) {
  const expected = KEY_TYPES.get(method);
  if (!expected || !mock.data?.has(key)) return;
  const stored = mock.data.get(key);
  if (mockType(stored) !== expected) {
    throw new CommandError('WRONGTYPE Operation against a key holding the wrong kind of value');
  }
  const value = method === 'hincrby' ? stored[field] : stored;
  if (INTEGER_COMMANDS.has(method) && value !== undefined && !/^-?\d+$/.test(String(value))) {
    throw new CommandError(
      method === 'hincrby'
        ? 'ERR hash value is not an integer'
        : 'ERR value is not an integer or out of range',
    );
  }
}

/** @param {unknown} value how ioredis-mock stores each Redis type */
function mockType(value) {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return 'string';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Set) return 'set';
  if (value instanceof Map) return 'zset';
  return 'hash';
}

const LUA_ERROR_MARK = '__standin_error_reply__:';

/**
 * ioredis-mock hands Lua the replies of redis.call as JS proxies holding JS nulls, where Redis gives real tables
 * with false (e.g. HMGET of a missing key, which @upstash/ratelimit's token bucket tests with `== false`); it also
 * lacks redis.error_reply/status_reply. Kept on one line, in front of the script's first line, so Lua error line
 * numbers stay right.
 */
const MOCK_LUA_PRELUDE =
  'local __standin_call = redis.call; ' +
  'redis.call = function(...) local r = __standin_call(...); if type(r) ~= "userdata" then return r end; ' +
  'local t = {}; for i = 1, #r do local v = r[i]; ' +
  'if v == nil or (type(v) == "userdata" and tostring(v) == "null") then t[i] = false else t[i] = v end end; ' +
  'return t end; ' +
  `redis.error_reply = function(m) return "${LUA_ERROR_MARK}" .. m end; redis.status_reply = function(m) return m end; `;

/** @param {string} name @param {string[]} args */
function unknownCommand(name, args) {
  const shown = args.map((a) => `'${a.slice(0, 128)}' `).join('');
  return new CommandError(`ERR unknown command '${name}', with args beginning with: ${shown}`);
}

/** @param {string} name @param {string[]} args @param {any} err */
function mockError(name, args, err) {
  if (String(err?.message).startsWith('Unsupported command')) return unknownCommand(name, args);
  if (/^Key .* does not contain a /.test(err?.message)) {
    return new CommandError('WRONGTYPE Operation against a key holding the wrong kind of value');
  }
  return new CommandError(/^[A-Z]+ /.test(err?.message) ? err.message : `ERR ${err?.message ?? err}`);
}

/**
 * Brings the mock's JS-flavoured replies back to what Redis would send: Lua results follow Redis' conversion rules
 * (numbers truncated, true → 1, false → nil), and the NaN it returns for INCR on a non-number is Redis' error.
 * @param {string} method
 * @param {any} reply
 */
function normalizeMockReply(method, reply) {
  if (typeof reply === 'number' && Number.isNaN(reply)) {
    throw new CommandError('ERR value is not an integer or out of range');
  }
  return method === 'eval' || method === 'evalsha' ? fromLua(reply) : reply;
}

/**
 * Lua tables other than arrays come back as proxies into a closed Lua state; Redis would send an empty array.
 * @param {any} value
 * @returns {Reply}
 */
function fromLua(value) {
  if (typeof value === 'number') return Math.trunc(value);
  if (value === true) return 1;
  if (value === false) return null;
  if (typeof value === 'string' && value.startsWith(LUA_ERROR_MARK)) {
    throw new CommandError(value.slice(LUA_ERROR_MARK.length));
  }
  if (Array.isArray(value)) return value.map(fromLua);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) return [];
  return value;
}
